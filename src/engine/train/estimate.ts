// Memory and work estimates for a training run, made before it starts, and the check that refuses a run
// whose tensors cannot fit the device (WebGPU binds each tensor as one storage buffer: no tensor may exceed
// maxStorageBufferBindingSize). Figures are float32 bytes; activations are what the backward pass keeps.
import type { ModelConfig } from '../model/config';
import { loraSpecs } from '../model/lora';
import { expectedWeights } from '../model/weights';
import { resolveTargets, type TrainConfig } from './config';

export interface TrainEstimate {
  /** base weights on the device */ weights: number;
  /** LoRA weights, AdamW moments, gradients and their accumulator */ lora: number;
  /** activations kept for the backward pass, per micro-batch */ activations: number;
  /** logits and their gradient for one cross-entropy chunk */ logits: number;
  total: number;
  largest: { name: string; bytes: number };
  /** multiply-adds ×2 of one optimizer step (forward + backward to the activations) */ flopsPerStep: number;
  trainableParams: number;
  baseParams: number;
}

/** Rows of logits per cross-entropy chunk: a power of two keeping one chunk near 64 MiB. */
export const ceChunkRows = (vocab: number) =>
  Math.max(8, 2 ** Math.floor(Math.log2(Math.max(1, (64 << 20) / (4 * vocab)))));

export function estimateTraining(c: ModelConfig, t: TrainConfig, seqLen = t.maxLen): TrainEstimate {
  const F = 4;
  const shapes = expectedWeights(c);
  let baseParams = 0;
  let largest = { name: '', bytes: 0 };
  for (const [name, s] of shapes) {
    const n = s.reduce((a, b) => a * b, 1);
    baseParams += n;
    // the embedding and LM head are split over the vocabulary when they exceed a binding (model/vocab.ts)
    const vocab = name === 'model.embed_tokens.weight' || name === 'lm_head.weight';
    if (!vocab && n * F > largest.bytes) largest = { name, bytes: n * F };
  }
  const specs = loraSpecs(c, resolveTargets(t.targets));
  const trainable = specs.reduce((a, s) => a + t.rank * (s.in + s.out), 0);
  const M = t.batchSize * seqLen;
  const D = c.hidden_size;
  const I = c.intermediate_size;
  const q = c.num_attention_heads * c.head_dim;
  const kv = c.num_key_value_heads * c.head_dim;
  const scores = t.batchSize * c.num_attention_heads * seqLen * seqLen;
  const perLayer = M * (6 * D + 2 * (q + 2 * kv) + q + 5 * I) + 2 * scores;
  const activations = c.num_hidden_layers * perLayer * F;
  const chunk = Math.min(ceChunkRows(c.vocab_size), M);
  const logits = 3 * chunk * c.vocab_size * F;
  if (scores * F > largest.bytes) largest = { name: 'attention scores', bytes: scores * F };
  if (chunk * c.vocab_size * F > largest.bytes)
    largest = { name: 'logits chunk', bytes: chunk * c.vocab_size * F };
  const lora = 5 * trainable * F;
  const weights = baseParams * F;
  const perLayerFlops = 2 * M * (D * (q + 2 * kv) + q * D + 3 * D * I) + 4 * scores * c.head_dim;
  const forward = c.num_hidden_layers * perLayerFlops + 2 * M * D * c.vocab_size;
  return {
    weights,
    lora,
    activations,
    logits,
    total: weights + lora + activations + logits,
    largest,
    flopsPerStep: 2 * forward * t.gradAccum,
    trainableParams: trainable,
    baseParams,
  };
}

export interface DeviceLimits {
  maxStorageBufferBindingSize?: number;
  maxBufferSize?: number;
}

/** Why the run cannot start on this device, or null when it fits. */
export function wontFit(e: TrainEstimate, limits: DeviceLimits): string | null {
  const bind = Math.min(limits.maxStorageBufferBindingSize ?? Infinity, limits.maxBufferSize ?? Infinity);
  if (e.largest.bytes > bind) {
    const mb = (x: number) => `${(x / 2 ** 20).toFixed(0)} MiB`;
    return (
      `${e.largest.name} needs ${mb(e.largest.bytes)} in one buffer but this GPU binds at most ${mb(bind)}` +
      (e.largest.name === 'attention scores'
        ? '; lower the batch size or max length'
        : e.largest.name === 'logits chunk'
          ? ''
          : '; this model is too large for this GPU')
    );
  }
  return null;
}
