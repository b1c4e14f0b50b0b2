// Merging a LoRA adapter into its base model, as PEFT's merge_and_unload does: for each target projection
// W' = W + scale · (B_peft · A_peft) in HF's [out, in] layout, scale = alpha / r (alpha / √r with rsLoRA).
// Our adapter layout is transposed (A: [in, r], B: [r, out]), so delta[o, i] = Σ_r A[i, r] · B[r, o].

import { UserError } from '../errors';
import type { Adapter } from '../io/peft';
import { loraSpecs, slotKey } from '../model/lora';
import type { LoadedModel, LoadedTensor } from '../model/weights';
import { loraScale } from '../train/config';

/** scale · (B·A) as an HF [out, in] matrix, from our layout A [in, r], B [r, out]. */
export function loraDelta(
  A: Float32Array,
  B: Float32Array,
  dims: { in: number; out: number; rank: number },
  scale: number,
): Float32Array {
  const { in: nIn, out: nOut, rank } = dims;
  if (A.length !== nIn * rank || B.length !== rank * nOut) {
    throw new Error(`LoRA shapes: A ${A.length} for [${nIn}, ${rank}], B ${B.length} for [${rank}, ${nOut}]`);
  }
  // A transposed to [r, in] so the inner loop runs over contiguous memory.
  const At = new Float32Array(rank * nIn);
  for (let i = 0; i < nIn; i++) for (let r = 0; r < rank; r++) At[r * nIn + i] = A[i * rank + r];
  const delta = new Float32Array(nOut * nIn);
  const row = new Float64Array(nIn);
  for (let o = 0; o < nOut; o++) {
    row.fill(0);
    for (let r = 0; r < rank; r++) {
      const b = B[r * nOut + o];
      if (b === 0) continue;
      const base = r * nIn;
      for (let i = 0; i < nIn; i++) row[i] += b * At[base + i];
    }
    for (let i = 0; i < nIn; i++) delta[o * nIn + i] = scale * row[i];
  }
  return delta;
}

/**
 * The model's weights with the adapter merged in. Tensors the adapter does not touch are the same objects
 * as in `model.weights` (not copied); merged ones are new float32 arrays.
 */
export function mergeAdapter(model: LoadedModel, adapter: Adapter): Map<string, LoadedTensor> {
  const { meta, weights } = adapter;
  const scale = loraScale({ alpha: meta.alpha, rank: meta.rank, rslora: meta.rslora });
  const out = new Map(model.weights);
  for (const s of loraSpecs(model.config, meta.targets)) {
    const name = `${s.path}.weight`;
    const base = model.weights.get(name);
    const A = weights.A.get(slotKey(s.layer, s.module));
    const B = weights.B.get(slotKey(s.layer, s.module));
    if (!base || !A || !B) throw new UserError(`adapter has no weights for ${s.path}`);
    if (base.shape[0] !== s.out || base.shape[1] !== s.in) {
      throw new UserError(`${name} is [${base.shape}] but the adapter expects [${s.out}, ${s.in}]`);
    }
    const delta = loraDelta(A, B, { in: s.in, out: s.out, rank: meta.rank }, scale);
    for (let k = 0; k < delta.length; k++) delta[k] += base.data[k];
    out.set(name, { shape: [...base.shape], data: delta });
  }
  return out;
}

/** A LoadedModel whose weights have the adapter merged in (config and files unchanged). */
export function mergedModel(model: LoadedModel, adapter: Adapter): LoadedModel {
  return { ...model, weights: mergeAdapter(model, adapter) };
}
