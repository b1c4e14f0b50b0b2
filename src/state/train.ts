// Train slice: the form's TrainConfig, the live run (ids and metrics only) and the run history.
import type { StateCreator } from 'zustand';
import { defaultTrainConfig, type TrainConfig } from '../engine/train/config';
import type { StepMetrics } from '../engine/train/trainer';
import type { RunRecord, RunStatus } from '../storage/db';
import type { StudioState } from './store';

export interface LiveRun {
  runId: string | null;
  jobId: string;
  name: string;
  status: RunStatus | 'starting';
  totalSteps: number;
  /** Step the run (re)started from, for the ETA. */
  firstStep: number;
  startedAt: number;
  metrics: StepMetrics[];
  val: { step: number; loss: number }[];
  trainRows: number;
  valRows: number;
  truncated: number;
  lastCheckpoint: number | null;
  adapterId: string | null;
  message: string | null;
}

export interface TrainSlice {
  trainForm: TrainConfig;
  run: LiveRun | null;
  runs: RunRecord[];
  setTrainForm(patch: Partial<TrainConfig>): void;
  resetTrainForm(): void;
  setRun(run: LiveRun | null): void;
  patchRun(patch: Partial<LiveRun>): void;
  addStep(m: StepMetrics): void;
  setRuns(runs: RunRecord[]): void;
}

export const createTrainSlice: StateCreator<StudioState, [], [], TrainSlice> = (set) => ({
  trainForm: { ...defaultTrainConfig },
  run: null,
  runs: [],
  setTrainForm: (patch) => set((s) => ({ trainForm: { ...s.trainForm, ...patch } })),
  resetTrainForm: () => set({ trainForm: { ...defaultTrainConfig } }),
  setRun: (run) => set({ run }),
  patchRun: (patch) => set((s) => (s.run ? { run: { ...s.run, ...patch } } : {})),
  addStep: (m) => set((s) => (s.run ? { run: { ...s.run, metrics: [...s.run.metrics, m] } } : {})),
  setRuns: (runs) => set({ runs }),
});
