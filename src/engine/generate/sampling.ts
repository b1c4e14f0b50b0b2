// Choosing the next token from logits, in transformers' order: repetition penalty → temperature →
// top-k → top-p, then a seeded draw (greedy when temperature is 0).
import type { Rng } from '../train/rng';

export interface SamplingOptions {
  /** 0 = greedy. */
  temperature: number;
  /** Keep the k most likely tokens (0 = all). */
  topK: number;
  /** Keep the smallest set whose probability reaches p (1 = all). */
  topP: number;
  /** > 1 discourages tokens already in the sequence (CTRL-style, as transformers). */
  repetitionPenalty: number;
}

export const defaultSampling: SamplingOptions = { temperature: 0, topK: 0, topP: 1, repetitionPenalty: 1 };

export function argmax(x: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < x.length; i++) if (x[i] > x[best]) best = i;
  return best;
}

export function sampleToken(
  logits: Float32Array,
  seen: Iterable<number>,
  opts: SamplingOptions,
  rng: Rng,
): number {
  const z = Float64Array.from(logits);
  if (opts.repetitionPenalty !== 1) {
    for (const id of new Set(seen))
      z[id] = z[id] < 0 ? z[id] * opts.repetitionPenalty : z[id] / opts.repetitionPenalty;
  }
  if (!(opts.temperature > 0)) return argmax(z);
  let idx = Array.from(z.keys()).sort((a, b) => z[b] - z[a]);
  if (opts.topK > 0) idx = idx.slice(0, opts.topK);
  const m = z[idx[0]];
  const p = idx.map((i) => Math.exp((z[i] - m) / opts.temperature));
  const total = p.reduce((a, b) => a + b, 0);
  let keep = idx.length;
  if (opts.topP < 1) {
    let acc = 0;
    for (let k = 0; k < idx.length; k++) {
      acc += p[k] / total;
      if (acc >= opts.topP) {
        keep = k + 1;
        break;
      }
    }
  }
  const mass = p.slice(0, keep).reduce((a, b) => a + b, 0);
  let u = rng.uniform() * mass;
  for (let k = 0; k < keep; k++) {
    u -= p[k];
    if (u <= 0) return idx[k];
  }
  return idx[keep - 1];
}
