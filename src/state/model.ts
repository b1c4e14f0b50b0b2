// Model slice: loading status, download progress (bytes and rate) and the facts of the loaded model.
import type { StateCreator } from 'zustand';
import type { ModelFacts } from '../../workers/api';
import type { StudioState } from './store';

export interface LoadProgress {
  file: string;
  loaded: number;
  total: number;
  /** Bytes per second, smoothed. */
  rate: number;
  startedAt: number;
  /** The load finished: the bar stays at 100 % with the bytes and time it took. */
  done?: { seconds: number; what: string };
}

export interface ModelSlice {
  modelStatus: 'idle' | 'loading' | 'ready' | 'error';
  modelFacts: ModelFacts | null;
  modelProgress: LoadProgress | null;
  modelError: string | null;
  modelJobId: string | null;
  /** What is being loaded, for the progress line. */
  modelLoading: string | null;
  startModelLoad(jobId: string, what: string): void;
  setModelProgress(file: string, loaded: number, total: number): void;
  finishModelLoad(facts: ModelFacts | null, error?: string | null): void;
}

export const createModelSlice: StateCreator<StudioState, [], [], ModelSlice> = (set, get) => ({
  modelStatus: 'idle',
  modelFacts: null,
  modelProgress: null,
  modelError: null,
  modelJobId: null,
  modelLoading: null,
  startModelLoad: (jobId, what) =>
    set({
      modelStatus: 'loading',
      modelJobId: jobId,
      modelLoading: what,
      modelError: null,
      modelFacts: null,
      modelProgress: { file: '', loaded: 0, total: 0, rate: 0, startedAt: performance.now() },
    }),
  setModelProgress: (file, loaded, total) => {
    const p = get().modelProgress;
    const startedAt = p?.startedAt ?? performance.now();
    const secs = (performance.now() - startedAt) / 1000;
    const rate = secs > 0.2 ? loaded / secs : 0;
    set({ modelProgress: { file, loaded, total, rate, startedAt } });
  },
  finishModelLoad: (facts, error = null) => {
    const p = get().modelProgress;
    const what = get().modelLoading ?? '';
    set({
      modelStatus: facts ? 'ready' : error ? 'error' : 'idle',
      modelFacts: facts,
      modelError: error,
      modelJobId: null,
      modelProgress:
        facts && p
          ? { ...p, loaded: p.total, done: { seconds: (performance.now() - p.startedAt) / 1000, what } }
          : null,
      modelLoading: null,
    });
  },
});
