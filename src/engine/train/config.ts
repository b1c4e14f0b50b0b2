// The training configuration: one typed object shared by the CLI, the worker and the studio's Train tab.
// Each field has a one-line doc (shown as help text in the UI) and a default; `resolveTrainConfig`
// fills defaults and rejects bad values with a clear message.
import { UserError } from '../errors';
import { resolveTargets } from '../model/lora-config';

export type Schedule = 'constant' | 'linear' | 'cosine';

export interface TrainConfig {
  /** LoRA rank r: size of the low-rank update. */
  rank: number;
  /** LoRA alpha: the update is scaled by alpha / r (alpha / √r with rsLoRA). */
  alpha: number;
  /** Dropout on the LoRA input during training (0 disables it). */
  dropout: number;
  /** Projections that get an adapter: a list of names, or "all-linear". */
  targets: string[] | 'all-linear';
  /** Rank-stabilised LoRA: scale by alpha / √r instead of alpha / r. */
  rslora: boolean;
  /** Peak learning rate of AdamW. */
  lr: number;
  /** Decoupled weight decay of AdamW. */
  weightDecay: number;
  /** Sequences per micro-batch. */
  batchSize: number;
  /** Micro-batches per optimizer step (gradient accumulation). */
  gradAccum: number;
  /** Longest sequence in tokens; longer rows are truncated (counted and reported). */
  maxLen: number;
  /** Learning-rate schedule after warmup. */
  schedule: Schedule;
  /** Warmup steps: the learning rate rises linearly from 0. */
  warmup: number;
  /** Clip the global gradient norm to this value (0 = no clipping). */
  maxGradNorm: number;
  /** Optimizer steps; when 0, `epochs` decides. */
  steps: number;
  /** Passes over the training rows (used when steps is 0). */
  epochs: number;
  /** Seed for LoRA initialisation, shuffling, dropout and the validation split. */
  seed: number;
  /** Shuffle rows each epoch. */
  shuffle: boolean;
  /** Fraction of rows held out for validation loss (0 = none). */
  valSplit: number;
  /** Also train on prompt tokens (by default only the assistant's answer is trained). */
  trainOnPrompt: boolean;
  /** Pack several short rows into one sequence (positions restart, attention stays within each row). */
  packing: boolean;
  /** Save a checkpoint every N optimizer steps (0 = off; one is always saved at pause, stop and the end). */
  checkpointEvery: number;
  /** Save a checkpoint once this many seconds have passed since the last one (0 = off). */
  checkpointSeconds: number;
  /** Evaluate validation loss every N optimizer steps (0 = only at the end). */
  evalEvery: number;
  /** NEFTune: uniform noise of scale alpha/√(length·hidden) on the input embeddings while training (0 = off). */
  neftuneAlpha: number;
  /** Memory budget in MiB for the whole step, weights included (0 = what the device allows). */
  memoryBudget: number;
  /** How a step runs: auto (fastest that fits), whole (one graph), layerwise (least memory). */
  plan: 'auto' | 'whole' | 'layerwise';
}

export { ALL_LINEAR, resolveTargets, type TargetModule } from '../model/lora-config';

export const defaultTrainConfig: TrainConfig = {
  rank: 8,
  alpha: 16,
  dropout: 0.05,
  targets: ['q_proj', 'v_proj'],
  rslora: false,
  lr: 2e-4,
  weightDecay: 0,
  batchSize: 4,
  gradAccum: 1,
  maxLen: 1024,
  schedule: 'constant',
  warmup: 0,
  maxGradNorm: 1.0,
  steps: 0,
  epochs: 1,
  seed: 0,
  shuffle: true,
  valSplit: 0,
  trainOnPrompt: false,
  packing: false,
  checkpointEvery: 0,
  checkpointSeconds: 60,
  evalEvery: 0,
  neftuneAlpha: 0,
  memoryBudget: 0,
  plan: 'auto',
};

/**
 * The full config, checked. Errors name each setting as `name` gives it (the CLI's flag, the Train tab's
 * label; by default the key).
 */
export function resolveTrainConfig(
  partial: Partial<TrainConfig>,
  name: (key: keyof TrainConfig) => string = (k) => k,
): TrainConfig {
  const c: TrainConfig = { ...defaultTrainConfig, ...partial };
  const positiveInt = (k: keyof TrainConfig) => {
    const v = c[k] as number;
    if (!Number.isInteger(v) || v <= 0)
      throw new UserError(`${name(k)} must be a positive integer (got ${v})`);
  };
  const nonNeg = (k: keyof TrainConfig) => {
    const v = c[k] as number;
    if (!Number.isFinite(v) || v < 0) throw new UserError(`${name(k)} must be ≥ 0 (got ${v})`);
  };
  positiveInt('rank');
  positiveInt('batchSize');
  positiveInt('gradAccum');
  positiveInt('maxLen');
  if (!(c.lr > 0) || !Number.isFinite(c.lr)) throw new UserError(`${name('lr')} must be > 0 (got ${c.lr})`);
  if (!(c.alpha > 0)) throw new UserError(`${name('alpha')} must be > 0 (got ${c.alpha})`);
  if (!(c.dropout >= 0 && c.dropout < 1))
    throw new UserError(`${name('dropout')} must be in [0, 1) (got ${c.dropout})`);
  if (!(c.valSplit >= 0 && c.valSplit < 1))
    throw new UserError(`${name('valSplit')} must be in [0, 1) (got ${c.valSplit})`);
  for (const k of [
    'weightDecay',
    'warmup',
    'maxGradNorm',
    'steps',
    'epochs',
    'checkpointEvery',
    'checkpointSeconds',
    'evalEvery',
    'neftuneAlpha',
    'memoryBudget',
  ] as const)
    nonNeg(k);
  if (!['auto', 'whole', 'layerwise'].includes(c.plan))
    throw new UserError(`unknown ${name('plan')} '${c.plan}'; use auto, whole or layerwise`);
  if (c.steps === 0 && !(c.epochs > 0))
    throw new UserError(`give ${name('steps')} > 0 or ${name('epochs')} > 0`);
  if (!['constant', 'linear', 'cosine'].includes(c.schedule)) {
    throw new UserError(`unknown ${name('schedule')} '${c.schedule}'; use constant, linear or cosine`);
  }
  resolveTargets(c.targets);
  return c;
}

/** LoRA scale applied to B·A. */
export const loraScale = (c: Pick<TrainConfig, 'alpha' | 'rank' | 'rslora'>) =>
  c.rslora ? c.alpha / Math.sqrt(c.rank) : c.alpha / c.rank;

/** Learning rate at optimizer step `step` (0-based) of `total`, as transformers' schedules. */
export function lrAt(
  c: Pick<TrainConfig, 'lr' | 'schedule' | 'warmup'>,
  step: number,
  total: number,
): number {
  if (step < c.warmup) return (c.lr * step) / Math.max(1, c.warmup);
  if (c.schedule === 'constant') return c.lr;
  const progress = (step - c.warmup) / Math.max(1, total - c.warmup);
  if (c.schedule === 'linear') return c.lr * Math.max(0, (total - step) / Math.max(1, total - c.warmup));
  return c.lr * Math.max(0, 0.5 * (1 + Math.cos(Math.PI * progress)));
}
