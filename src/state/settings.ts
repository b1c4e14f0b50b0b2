// Settings slice: Hub endpoint, access token and backend choice (persisted by src/storage/settings.ts).
import type { StateCreator } from 'zustand';
import { defaultSettings, type Settings } from '../storage/settings';
import type { StudioState } from './store';

export interface SettingsSlice {
  settings: Settings;
  settingsLoaded: boolean;
  setSettings(patch: Partial<Settings>): void;
}

export const createSettingsSlice: StateCreator<StudioState, [], [], SettingsSlice> = (set) => ({
  settings: defaultSettings,
  settingsLoaded: false,
  setSettings: (patch) => set((s) => ({ settings: { ...s.settings, ...patch }, settingsLoaded: true })),
});
