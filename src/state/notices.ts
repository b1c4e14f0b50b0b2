// Notices slice: errors and confirmations shown in the page's status area (text only, never HTML). Errors
// stay until dismissed; confirmations fade after a while so they do not pile up over the page.
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

/** How long an info notice stays. */
export const INFO_MS = 10_000;

let next = 1;

export const createNoticeSlice: StateCreator<StudioState, [], [], NoticeSlice> = (set, get) => ({
  notices: [],
  notify: (kind, text) => {
    const id = next++;
    set((s) => ({ notices: [...s.notices.slice(-4), { id, kind, text }] }));
    if (kind === 'info') setTimeout(() => get().dismiss(id), INFO_MS);
  },
  dismiss: (id) => set((s) => ({ notices: s.notices.filter((n) => n.id !== id) })),
});
