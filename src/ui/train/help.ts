// Help text of each Train form field: the one-line docs of TrainConfig (src/engine/train/config.ts), and
// how each field is edited. `satisfies Record<keyof TrainConfig, …>` makes a new config field a type error
// here until it has help and a control.
import type { TrainConfig } from '../../engine/train/config';

export const trainConfigHelp = {
  rank: 'LoRA rank r: size of the low-rank update.',
  alpha: 'LoRA alpha: the update is scaled by alpha / r (alpha / √r with rsLoRA).',
  dropout: 'Dropout on the LoRA input during training (0 disables it).',
  targets: 'Projections that get an adapter: a list of names, or "all-linear".',
  rslora: 'Rank-stabilised LoRA: scale by alpha / √r instead of alpha / r.',
  lr: 'Peak learning rate of AdamW.',
  weightDecay: 'Decoupled weight decay of AdamW.',
  batchSize: 'Sequences per micro-batch.',
  gradAccum: 'Micro-batches per optimizer step (gradient accumulation).',
  maxLen: 'Longest sequence in tokens; longer rows are truncated (counted and reported).',
  schedule: 'Learning-rate schedule after warmup.',
  warmup: 'Warmup steps: the learning rate rises linearly from 0.',
  maxGradNorm: 'Clip the global gradient norm to this value (0 = no clipping).',
  steps: 'Optimizer steps; when 0, `epochs` decides.',
  epochs: 'Passes over the training rows (used when steps is 0).',
  seed: 'Seed for LoRA initialisation, shuffling, dropout and the validation split.',
  shuffle: 'Shuffle rows each epoch.',
  valSplit: 'Fraction of rows held out for validation loss (0 = none).',
  trainOnPrompt: "Also train on prompt tokens (by default only the assistant's answer is trained).",
  packing: 'Pack several short rows into one sequence (positions restart, attention stays within each row).',
  checkpointEvery:
    'Save a checkpoint every N optimizer steps (0 = off; one is always saved at pause, stop and the end).',
  checkpointSeconds: 'Save a checkpoint once this many seconds have passed since the last one (0 = off).',
  evalEvery: 'Evaluate validation loss every N optimizer steps (0 = only at the end).',
  neftuneAlpha:
    'NEFTune: uniform noise of scale alpha/√(length·hidden) on the input embeddings while training (0 = off).',
  memoryBudget: 'Memory budget in MiB for the whole step, weights included (0 = what the device allows).',
  plan: 'How a step runs: auto (fastest that fits), whole (one graph), layerwise (least memory).',
} satisfies Record<keyof TrainConfig, string>;

export type FieldKind =
  | { kind: 'int'; min: number; max?: number }
  | { kind: 'float'; min: number; max?: number; step: number }
  | { kind: 'bool' }
  | { kind: 'schedule' }
  | { kind: 'plan' }
  | { kind: 'targets' }
  | { kind: 'fromData' };

export interface FieldSpec {
  key: keyof TrainConfig;
  label: string;
  control: FieldKind;
}

/** Form layout: groups of fields in display order. */
export const trainFormGroups: { title: string; fields: FieldSpec[] }[] = [
  {
    title: 'Adapter',
    fields: [
      { key: 'rank', label: 'Rank', control: { kind: 'int', min: 1, max: 256 } },
      { key: 'alpha', label: 'Alpha', control: { kind: 'float', min: 0.001, step: 1 } },
      { key: 'dropout', label: 'LoRA dropout', control: { kind: 'float', min: 0, max: 0.99, step: 0.01 } },
      { key: 'rslora', label: 'rsLoRA scaling', control: { kind: 'bool' } },
      { key: 'targets', label: 'Target modules', control: { kind: 'targets' } },
    ],
  },
  {
    title: 'Optimizer',
    fields: [
      { key: 'lr', label: 'Learning rate', control: { kind: 'float', min: 0, step: 0.00001 } },
      { key: 'schedule', label: 'Schedule', control: { kind: 'schedule' } },
      { key: 'warmup', label: 'Warmup steps', control: { kind: 'int', min: 0 } },
      { key: 'weightDecay', label: 'Weight decay', control: { kind: 'float', min: 0, step: 0.01 } },
      { key: 'maxGradNorm', label: 'Max grad norm', control: { kind: 'float', min: 0, step: 0.1 } },
      { key: 'neftuneAlpha', label: 'NEFTune alpha', control: { kind: 'float', min: 0, step: 1 } },
    ],
  },
  {
    title: 'Batches and length',
    fields: [
      { key: 'batchSize', label: 'Batch size', control: { kind: 'int', min: 1, max: 256 } },
      { key: 'gradAccum', label: 'Gradient accumulation', control: { kind: 'int', min: 1, max: 256 } },
      { key: 'maxLen', label: 'Max length', control: { kind: 'int', min: 2 } },
      { key: 'packing', label: 'Packing', control: { kind: 'bool' } },
      { key: 'trainOnPrompt', label: 'Train on prompt', control: { kind: 'bool' } },
    ],
  },
  {
    title: 'Duration',
    fields: [
      { key: 'epochs', label: 'Epochs', control: { kind: 'float', min: 0, step: 0.5 } },
      { key: 'steps', label: 'Steps', control: { kind: 'int', min: 0 } },
      { key: 'shuffle', label: 'Shuffle', control: { kind: 'bool' } },
      { key: 'seed', label: 'Seed', control: { kind: 'int', min: 0 } },
      { key: 'valSplit', label: 'Validation split', control: { kind: 'fromData' } },
      { key: 'evalEvery', label: 'Evaluate every', control: { kind: 'int', min: 0 } },
      { key: 'checkpointEvery', label: 'Checkpoint every (steps)', control: { kind: 'int', min: 0 } },
      { key: 'checkpointSeconds', label: 'Seconds between checkpoints', control: { kind: 'int', min: 0 } },
    ],
  },
  {
    title: 'Memory',
    fields: [
      { key: 'memoryBudget', label: 'Memory budget (MiB)', control: { kind: 'int', min: 0 } },
      { key: 'plan', label: 'Step plan', control: { kind: 'plan' } },
    ],
  },
];

/** A setting's label on the Train tab (resolveTrainConfig's errors name it so). */
export const fieldLabel = (key: keyof TrainConfig): string =>
  trainFormGroups.flatMap((g) => g.fields).find((f) => f.key === key)?.label ?? key;
