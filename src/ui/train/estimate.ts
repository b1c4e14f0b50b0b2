// Memory and work estimates for a training run, from the model's facts and the TrainConfig, so a run that
// cannot fit is refused before it starts (DESIGN §1 "Limits"). Rough by design: the sizes that dominate
// (float32 base weights, activations kept for the backward pass, the chunked logits) within ~±30%.
import { resolveTargets, type TrainConfig } from '../../engine/train/config';
import type { DeviceReport, ModelFacts } from '../../../workers/api';

export interface TrainEstimate {
  weights: number;
  /** LoRA weights, gradients, accumulators and AdamW moments. */
  loraState: number;
  activations: number;
  logits: number;
  total: number;
  loraParams: number;
  /** Forward + backward FLOPs per optimizer step (backward of frozen weights: input gradients only). */
  flopsPerStep: number;
  tokensPerStep: number;
  steps: number;
  problems: string[];
}

export function estimateTraining(
  f: ModelFacts,
  c: TrainConfig,
  opts: { rows: number; meanTokens: number; device?: DeviceReport | null },
): TrainEstimate {
  let targets: string[];
  try {
    targets = resolveTargets(c.targets);
  } catch {
    targets = [];
  }
  const loraParams = f.layers * c.rank * targets.reduce((a, t) => a + (f.moduleDims[t] ?? 0), 0);
  const T = Math.min(c.maxLen, Math.max(8, Math.ceil(opts.meanTokens || c.maxLen)));
  const bt = c.batchSize * (c.packing ? c.maxLen : T);
  // Per layer and token: residual/norm/attention/MLP inputs kept for backward, plus attention scores.
  const perToken = 10 * f.hidden + 4 * f.intermediate + 2 * f.heads * (c.packing ? c.maxLen : T);
  const activations = 4 * f.layers * bt * perToken;
  const V = f.vocab;
  // as the trainer picks it: ~64 MiB of logits per chunk, never more rows than a micro-batch has
  const chunk = Math.min(bt, Math.max(8, 2 ** Math.floor(Math.log2(Math.max(1, (64 << 20) / (4 * V))))));
  const logits = 3 * 4 * chunk * V;
  const loraState = 4 * loraParams * 5;
  const total = f.weightBytes + loraState + activations + logits;
  const trainRows = Math.max(1, Math.round(opts.rows * (1 - c.valSplit)));
  const perEpoch = Math.max(1, Math.ceil(trainRows / c.batchSize / c.gradAccum));
  const steps = c.steps > 0 ? c.steps : Math.max(1, Math.round(c.epochs * perEpoch));
  const tokensPerStep = c.batchSize * c.gradAccum * (opts.meanTokens || T);
  const flopsPerStep = 4 * f.params * tokensPerStep + 6 * loraParams * tokensPerStep;

  const problems: string[] = [];
  const binding = opts.device?.maxStorageBufferBindingSize;
  if (binding && f.largestTensorBytes > binding) {
    problems.push(
      `the largest weight (${(f.largestTensorBytes / 2 ** 20).toFixed(0)} MiB) exceeds this GPU's buffer binding limit (${(binding / 2 ** 20).toFixed(0)} MiB)`,
    );
  }
  if (c.maxLen > f.context)
    problems.push(`max length ${c.maxLen} is beyond the model's context (${f.context})`);
  if (targets.length === 0) problems.push('no LoRA target modules');
  return {
    weights: f.weightBytes,
    loraState,
    activations,
    logits,
    total,
    loraParams,
    flopsPerStep,
    tokensPerStep,
    steps,
    problems,
  };
}
