// Train slice: the form's TrainConfig, the live run (ids and metrics only) and the run history.
import type { StateCreator } from 'zustand';
import { defaultTrainConfig, type TrainConfig } from '../engine/train/config';
import type { StepMetrics } from '../engine/train/trainer';
import type { RunRecord, RunStatus } from '../storage/db';
import type { StudioState } from './store';

export interface LiveRun {
  runId: string | null;
  /** The worker job training it; '' for a past run shown read-only. */
  jobId: string;
  /** The job has ended (its last events may still arrive: they come on their own channel). */
  ended?: boolean;
  datasetId: string | null;
  name: string;
  status: RunStatus | 'starting';
  totalSteps: number;
  /** Step the run (re)started from, for the ETA. */
  firstStep: number;
  startedAt: number;
  /** When the step now running began (performance.now()): the run's start, then each step's end. */
  stepStartedAt?: number;
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
  /** Form fields whose typed text is not a valid value (label → message): Start waits for them. */
  formErrors: Record<string, string>;
  run: LiveRun | null;
  runs: RunRecord[];
  /** Ids of runs that another tab of the studio owns (running or paused there). */
  runsElsewhere: string[];
  setTrainForm(patch: Partial<TrainConfig>): void;
  setFormError(field: string, error: string | null): void;
  resetTrainForm(): void;
  setRun(run: LiveRun | null): void;
  patchRun(patch: Partial<LiveRun>): void;
  addStep(m: StepMetrics): void;
  setRuns(runs: RunRecord[], elsewhere?: string[]): void;
}

/** The run this tab is training (or has paused): its job is alive in this tab's worker. */
export const liveRun = (s: Pick<TrainSlice, 'run'>): LiveRun | null =>
  s.run && s.run.jobId !== '' && !s.run.ended && ['starting', 'running', 'paused'].includes(s.run.status)
    ? s.run
    : null;

export const createTrainSlice: StateCreator<StudioState, [], [], TrainSlice> = (set) => ({
  trainForm: { ...defaultTrainConfig },
  formErrors: {},
  run: null,
  runs: [],
  runsElsewhere: [],
  setTrainForm: (patch) => set((s) => ({ trainForm: { ...s.trainForm, ...patch } })),
  setFormError: (field, error) =>
    set((s) => {
      if ((s.formErrors[field] ?? null) === error) return {};
      const next = { ...s.formErrors };
      if (error === null) delete next[field];
      else next[field] = error;
      return { formErrors: next };
    }),
  resetTrainForm: () => set({ trainForm: { ...defaultTrainConfig }, formErrors: {} }),
  setRun: (run) => set({ run }),
  patchRun: (patch) => set((s) => (s.run ? { run: { ...s.run, ...patch } } : {})),
  addStep: (m) =>
    set((s) =>
      s.run ? { run: { ...s.run, metrics: [...s.run.metrics, m], stepStartedAt: performance.now() } } : {},
    ),
  setRuns: (runs, elsewhere) => set(elsewhere ? { runs, runsElsewhere: elsewhere } : { runs }),
});
