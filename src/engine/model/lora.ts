// LoRA parameters: which projections get an adapter, their shapes, PEFT-compatible initialisation
// (B = 0, A ~ U(−1/√in, 1/√in) as kaiming_uniform_(a=√5)) and conversion between our transposed
// layout (A: [in, r], B: [r, out]) and PEFT's (lora_A.weight [r, in], lora_B.weight [out, r]).
import type { ModelConfig } from './config';
import type { TargetModule } from './lora-config';
import { Rng } from '../rng';

export interface LoraSpec {
  layer: number;
  module: TargetModule;
  in: number;
  out: number;
  /** e.g. model.layers.3.self_attn.q_proj */
  path: string;
}

export interface LoraShape {
  rank: number;
  targets: readonly TargetModule[];
}

/** Host copy of adapter weights, in our layout. */
export interface LoraWeights {
  /** key `${layer}.${module}` */
  A: Map<string, Float32Array>;
  B: Map<string, Float32Array>;
}

export const slotKey = (layer: number, module: string) => `${layer}.${module}`;

export function moduleDims(c: ModelConfig, module: TargetModule): { in: number; out: number } {
  const D = c.hidden_size;
  const q = c.num_attention_heads * c.head_dim;
  const kv = c.num_key_value_heads * c.head_dim;
  const I = c.intermediate_size;
  switch (module) {
    case 'q_proj':
      return { in: D, out: q };
    case 'k_proj':
    case 'v_proj':
      return { in: D, out: kv };
    case 'o_proj':
      return { in: q, out: D };
    case 'gate_proj':
    case 'up_proj':
      return { in: D, out: I };
    case 'down_proj':
      return { in: I, out: D };
  }
}

const MLP_MODULES: readonly string[] = ['gate_proj', 'up_proj', 'down_proj'];
export const modulePath = (layer: number, module: TargetModule) =>
  `model.layers.${layer}.${MLP_MODULES.includes(module) ? 'mlp' : 'self_attn'}.${module}`;

export function loraSpecs(c: ModelConfig, targets: readonly TargetModule[]): LoraSpec[] {
  const specs: LoraSpec[] = [];
  for (let layer = 0; layer < c.num_hidden_layers; layer++) {
    for (const module of targets)
      specs.push({ layer, module, ...moduleDims(c, module), path: modulePath(layer, module) });
  }
  return specs;
}

/** PEFT initialisation: A uniform in ±1/√in (kaiming_uniform_ with a=√5), B zero. */
export function initLora(specs: LoraSpec[], rank: number, seed: number): LoraWeights {
  const rng = new Rng(seed);
  const A = new Map<string, Float32Array>();
  const B = new Map<string, Float32Array>();
  for (const s of specs) {
    const bound = 1 / Math.sqrt(s.in);
    const a = new Float32Array(s.in * rank);
    // draw in PEFT's [r, in] order, store transposed as [in, r]
    for (let r = 0; r < rank; r++)
      for (let i = 0; i < s.in; i++) a[i * rank + r] = (rng.uniform() * 2 - 1) * bound;
    A.set(slotKey(s.layer, s.module), a);
    B.set(slotKey(s.layer, s.module), new Float32Array(rank * s.out));
  }
  return { A, B };
}

/** Transposes a row-major [rows, cols] matrix. */
export function transpose2d(x: Float32Array, rows: number, cols: number): Float32Array {
  const y = new Float32Array(x.length);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) y[j * rows + i] = x[i * cols + j];
  return y;
}

export const peftKey = (s: LoraSpec, which: 'A' | 'B') => `base_model.model.${s.path}.lora_${which}.weight`;

/** Our layout → PEFT tensors {key: {shape, data}}. */
export function toPeft(specs: LoraSpec[], rank: number, w: LoraWeights) {
  const out: Record<string, { shape: number[]; data: Float32Array }> = {};
  for (const s of specs) {
    const k = slotKey(s.layer, s.module);
    out[peftKey(s, 'A')] = { shape: [rank, s.in], data: transpose2d(w.A.get(k)!, s.in, rank) };
    out[peftKey(s, 'B')] = { shape: [s.out, rank], data: transpose2d(w.B.get(k)!, rank, s.out) };
  }
  return out;
}

/** PEFT tensors → our layout (caller has validated names and shapes). */
export function fromPeft(specs: LoraSpec[], rank: number, tensors: Map<string, Float32Array>): LoraWeights {
  const A = new Map<string, Float32Array>();
  const B = new Map<string, Float32Array>();
  for (const s of specs) {
    const k = slotKey(s.layer, s.module);
    A.set(k, transpose2d(tensors.get(peftKey(s, 'A'))!, rank, s.in));
    B.set(k, transpose2d(tensors.get(peftKey(s, 'B'))!, s.out, rank));
  }
  return { A, B };
}

export interface FlatEntry {
  spec: LoraSpec;
  which: 'A' | 'B';
  offset: number;
  /** our layout: A [in, r], B [r, out] */
  dims: [number, number];
}

/** Where each LoRA tensor sits in the trainer's flat parameter vector: A then B of each slot, in order. */
export function flatLayout(specs: LoraSpec[], rank: number): { entries: FlatEntry[]; size: number } {
  const entries: FlatEntry[] = [];
  let offset = 0;
  for (const spec of specs) {
    for (const [which, dims] of [
      ['A', [spec.in, rank]],
      ['B', [rank, spec.out]],
    ] as const) {
      entries.push({ spec, which, offset, dims: [dims[0], dims[1]] });
      offset += dims[0] * dims[1];
    }
  }
  return { entries, size: offset };
}

/** Packs adapter weights into the flat vector (missing slots stay zero). */
export function packFlat(
  layout: { entries: FlatEntry[]; size: number },
  w: LoraWeights | undefined,
): Float32Array {
  const out = new Float32Array(layout.size);
  if (!w) return out;
  for (const e of layout.entries) {
    const t = w[e.which].get(slotKey(e.spec.layer, e.spec.module));
    if (t) out.set(t, e.offset);
  }
  return out;
}

export function unpackFlat(layout: { entries: FlatEntry[] }, flat: Float32Array): LoraWeights {
  const w: LoraWeights = { A: new Map(), B: new Map() };
  for (const e of layout.entries) {
    w[e.which].set(
      slotKey(e.spec.layer, e.spec.module),
      flat.slice(e.offset, e.offset + e.dims[0] * e.dims[1]),
    );
  }
  return w;
}
