// A LoRA adapter as a GGUF file llama.cpp loads with --lora, as convert_lora_to_gguf.py writes it:
// general.type "adapter", adapter.type "lora", adapter.lora.alpha, and per target `blk.N.<t>.weight.lora_a`
// (PEFT [r, in]) and `.lora_b` (PEFT [out, r]); llama.cpp scales B·A by alpha / r, so rsLoRA's alpha / √r is
// written as alpha' = alpha·√r. For `llama`, lora_b rows of q/k are permuted like the base weights.

import type { Adapter } from '../io/peft';
import type { ModelConfig } from '../model/config';
import { loraSpecs, slotKey, transpose2d } from '../model/lora';
import { gv, writeGguf, type GgufFile, type GgufMetadata, type GgufTensor } from './gguf';
import { checkGgufSupport, ggufTensorName, permuteRowsForRope, ropePermuteHeads } from './gguf-model';

export interface GgufAdapterOptions {
  /** general.name. Default "adapter". */
  name?: string;
  /** F32 (default) or F16 for lora_a / lora_b. */
  dtype?: 'f32' | 'f16';
}

/** The alpha llama.cpp needs so that alpha / r equals our scale. */
export function ggufLoraAlpha(meta: Adapter['meta']): number {
  return meta.rslora ? meta.alpha * Math.sqrt(meta.rank) : meta.alpha;
}

export function ggufAdapter(base: ModelConfig, adapter: Adapter, opts: GgufAdapterOptions = {}): GgufFile {
  checkGgufSupport(base);
  const { meta: am, weights } = adapter;
  const meta: GgufMetadata = new Map();
  meta.set('general.architecture', gv.str(base.model_type));
  meta.set('general.type', gv.str('adapter'));
  meta.set('general.name', gv.str(opts.name ?? 'adapter'));
  meta.set('general.alignment', gv.u32(32));
  meta.set('adapter.type', gv.str('lora'));
  meta.set('adapter.lora.alpha', gv.f32(ggufLoraAlpha(am)));
  const type = opts.dtype === 'f16' ? 'F16' : 'F32';
  const r = am.rank;
  const tensors: GgufTensor[] = [];
  for (const s of loraSpecs(base, am.targets)) {
    const hf = `${s.path}.weight`;
    const name = ggufTensorName(hf)!;
    const A = weights.A.get(slotKey(s.layer, s.module))!; // [in, r]
    const B = weights.B.get(slotKey(s.layer, s.module))!; // [r, out]
    const heads = ropePermuteHeads(base, hf);
    tensors.push({ name: `${name}.lora_a`, shape: [r, s.in], type, data: () => transpose2d(A, s.in, r) });
    tensors.push({
      name: `${name}.lora_b`,
      shape: [s.out, r],
      type,
      data: () => {
        const b = transpose2d(B, r, s.out); // PEFT [out, r]
        return heads ? permuteRowsForRope(b, s.out, r, heads) : b;
      },
    });
  }
  return writeGguf(meta, tensors);
}
