// Notices slice: errors and confirmations shown in the page's status area (text only, never HTML).
import type { StateCreator } from 'zustand';
import type { StudioState } from './store';

export interface Notice {
  id: number;
  kind: 'error' | 'info';
  text: string;
}

export interface NoticeSlice {
  notices: Notice[];
  notify(kind: Notice['kind'], text: string): void;
  dismiss(id: number): void;
}

let next = 1;

export const createNoticeSlice: StateCreator<StudioState, [], [], NoticeSlice> = (set) => ({
  notices: [],
  notify: (kind, text) => set((s) => ({ notices: [...s.notices.slice(-4), { id: next++, kind, text }] })),
  dismiss: (id) => set((s) => ({ notices: s.notices.filter((n) => n.id !== id) })),
});
