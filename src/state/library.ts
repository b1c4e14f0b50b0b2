// Library slice: saved adapters, cached models, and browser storage usage against quota.
import type { StateCreator } from 'zustand';
import type { AdapterRecord } from '../storage/db';
import type { CachedModel } from '../storage/modelCache';
import type { StorageEstimateInfo } from '../storage/quota';
import type { StudioState } from './store';

export interface LibrarySlice {
  adapters: AdapterRecord[];
  cachedModels: CachedModel[];
  storage: StorageEstimateInfo | null;
  setAdapters(a: AdapterRecord[]): void;
  setCachedModels(m: CachedModel[]): void;
  setStorage(s: StorageEstimateInfo): void;
}

export const createLibrarySlice: StateCreator<StudioState, [], [], LibrarySlice> = (set) => ({
  adapters: [],
  cachedModels: [],
  storage: null,
  setAdapters: (adapters) => set({ adapters }),
  setCachedModels: (cachedModels) => set({ cachedModels }),
  setStorage: (storage) => set({ storage }),
});
