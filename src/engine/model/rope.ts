// Rotary position embedding tables, following transformers' modeling_rope_utils (default, linear, llama3)
// and LlamaRotaryEmbedding's layout: emb = cat(freqs, freqs) on the last axis, so cos/sin rows are
// [positions, head_dim] and pair dimension i with i + head_dim/2 (rotate_half). Computed in float64.

import type { ModelConfig } from './config';

/** Inverse frequencies, length head_dim / 2, with the config's scaling applied. */
export function ropeInvFreq(cfg: ModelConfig): Float64Array {
  const dim = cfg.head_dim;
  const inv = new Float64Array(dim / 2);
  for (let i = 0; i < inv.length; i++) inv[i] = 1 / Math.pow(cfg.rope_theta, (2 * i) / dim);
  const s = cfg.rope_scaling;
  if (!s) return inv;
  if (s.rope_type === 'linear') {
    // Dividing positions by the factor is the same as dividing the frequencies.
    for (let i = 0; i < inv.length; i++) inv[i] /= s.factor;
    return inv;
  }
  // llama3 (transformers' _compute_llama3_parameters): long wavelengths are slowed by `factor`, short ones
  // kept, and the band between is blended smoothly.
  const oldLen = s.original_max_position_embeddings;
  const lowFreqWavelen = oldLen / s.low_freq_factor;
  const highFreqWavelen = oldLen / s.high_freq_factor;
  for (let i = 0; i < inv.length; i++) {
    const f = inv[i];
    const wavelen = (2 * Math.PI) / f;
    if (wavelen < highFreqWavelen) continue;
    if (wavelen > lowFreqWavelen) {
      inv[i] = f / s.factor;
      continue;
    }
    const smooth = (oldLen / wavelen - s.low_freq_factor) / (s.high_freq_factor - s.low_freq_factor);
    inv[i] = ((1 - smooth) * f) / s.factor + smooth * f;
  }
  return inv;
}

/** cos and sin tables, each [positions, head_dim] row-major, for positions 0 … positions-1. */
export function ropeTables(cfg: ModelConfig, positions: number): { cos: Float32Array; sin: Float32Array } {
  const inv = ropeInvFreq(cfg);
  const half = inv.length;
  const dim = 2 * half;
  const cos = new Float32Array(positions * dim);
  const sin = new Float32Array(positions * dim);
  for (let p = 0; p < positions; p++) {
    for (let i = 0; i < half; i++) {
      const a = p * inv[i];
      const c = Math.cos(a);
      const s = Math.sin(a);
      cos[p * dim + i] = c;
      cos[p * dim + half + i] = c;
      sin[p * dim + i] = s;
      sin[p * dim + half + i] = s;
    }
  }
  return { cos, sin };
}
