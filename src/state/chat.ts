// Chat slice: system prompt, sampling parameters, the adapter picked, and the conversation. With
// "compare", each assistant turn holds the base model's reply and the tuned one side by side.
import type { StateCreator } from 'zustand';
import type { SamplingParams } from '../../workers/api';
import type { StudioState } from './store';

export interface Reply {
  text: string;
  /** Streaming job, while it runs. */
  jobId: string | null;
  error: string | null;
  tokens?: number;
  ms?: number;
}

export interface ChatTurn {
  id: number;
  user: string;
  /** 'base' only when no adapter is picked; 'tuned' with an adapter; both when comparing. */
  replies: { base?: Reply; tuned?: Reply };
}

export interface ChatSlice {
  chatSystem: string;
  sampling: SamplingParams;
  chatAdapterId: string | null;
  compare: boolean;
  turns: ChatTurn[];
  setChat(patch: Partial<Pick<ChatSlice, 'chatSystem' | 'chatAdapterId' | 'compare'>>): void;
  setSampling(patch: Partial<SamplingParams>): void;
  addTurn(turn: ChatTurn): void;
  patchReply(turnId: number, which: 'base' | 'tuned', patch: Partial<Reply>): void;
  appendReply(turnId: number, which: 'base' | 'tuned', delta: string): void;
  clearChat(): void;
}

export const defaultSampling: SamplingParams = {
  maxNewTokens: 128,
  temperature: 0.7,
  topP: 0.9,
  topK: 0,
  seed: 0,
};

const updateReply = (turns: ChatTurn[], id: number, which: 'base' | 'tuned', f: (r: Reply) => Reply) =>
  turns.map((t) => {
    const r = t.replies[which];
    return t.id === id && r ? { ...t, replies: { ...t.replies, [which]: f(r) } } : t;
  });

export const createChatSlice: StateCreator<StudioState, [], [], ChatSlice> = (set) => ({
  chatSystem: '',
  sampling: defaultSampling,
  chatAdapterId: null,
  compare: false,
  turns: [],
  setChat: (patch) => set(patch),
  setSampling: (patch) => set((s) => ({ sampling: { ...s.sampling, ...patch } })),
  addTurn: (turn) => set((s) => ({ turns: [...s.turns, turn] })),
  patchReply: (id, which, patch) =>
    set((s) => ({ turns: updateReply(s.turns, id, which, (r) => ({ ...r, ...patch })) })),
  appendReply: (id, which, delta) =>
    set((s) => ({ turns: updateReply(s.turns, id, which, (r) => ({ ...r, text: r.text + delta })) })),
  clearChat: () => set({ turns: [] }),
});
