// The studio's zustand store, composed from typed slices (DESIGN §2): ids, settings, rows and metrics,
// never tensors; the engine worker owns everything heavy.
import { create } from 'zustand';
import { createChatSlice, type ChatSlice } from './chat';
import { createDataSlice, type DataSlice } from './data';
import { createDeviceSlice, type DeviceSlice } from './device';
import { createLibrarySlice, type LibrarySlice } from './library';
import { createModelSlice, type ModelSlice } from './model';
import { createNoticeSlice, type NoticeSlice } from './notices';
import { createSettingsSlice, type SettingsSlice } from './settings';
import { createTrainSlice, type TrainSlice } from './train';

export type StudioState = DeviceSlice &
  SettingsSlice &
  ModelSlice &
  DataSlice &
  TrainSlice &
  ChatSlice &
  LibrarySlice &
  NoticeSlice;

export const useStudio = create<StudioState>()((...a) => ({
  ...createDeviceSlice(...a),
  ...createSettingsSlice(...a),
  ...createModelSlice(...a),
  ...createDataSlice(...a),
  ...createTrainSlice(...a),
  ...createChatSlice(...a),
  ...createLibrarySlice(...a),
  ...createNoticeSlice(...a),
}));
