// Device slice: what the engine worker reported about the GPU (or the wasm fallback and why).
import type { StateCreator } from 'zustand';
import type { DeviceReport } from '../../workers/api';
import type { StudioState } from './store';

export interface DeviceSlice {
  device: DeviceReport | null;
  deviceError: string | null;
  setDevice(device: DeviceReport | null, error?: string | null): void;
}

export const createDeviceSlice: StateCreator<StudioState, [], [], DeviceSlice> = (set) => ({
  device: null,
  deviceError: null,
  setDevice: (device, error = null) => set({ device, deviceError: error }),
});
