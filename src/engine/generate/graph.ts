// Inference graphs: the decoder over L new tokens with a static KV cache of S slots (prefill: L = prompt
// bucket; decode: L = 1), returning logits for chosen rows. LoRA A/B are inputs (B pre-scaled), so
// switching adapters needs no rebuild; the base model is a separate graph without LoRA nodes.
import { Graph, type Value } from '../graph/ir';
import * as o from '../graph/ops';
import type { ModelConfig } from '../model/config';
import { fusedDecoder, fusedLogits, type FusedCache } from '../model/fused';
import { decoder, logits, ropeAt, type KvCache, type LoraGraph, type LoraSlot } from '../model/llama';
import { slotKey, type LoraSpec } from '../model/lora';
import { storedDtype, weightInput, type WeightStorage } from '../model/weight-inputs';

export interface InferGraphSpec {
  config: ModelConfig;
  weightShapes: Map<string, number[]>;
  /** sequences */ B: number;
  /** new tokens per sequence */ L: number;
  /** cache slots; 0 = no cache (keys are the L new tokens) */ S: number;
  /** rows of (B·L) whose logits are returned */ R: number;
  lora?: { specs: LoraSpec[]; rank: number };
  /** dtype of the base weights on the device (float16: layer weights cast to float32 in the graph) */
  storage?: WeightStorage;
  /** fused onnxruntime ops (model/fused.ts: fewer GPU dispatches; K cache stored (B, KV, hd, S)); needs S > 0 */
  fused?: boolean;
}

export const loraInput = (s: LoraSpec, which: 'A' | 'B') => `lora.${slotKey(s.layer, s.module)}.${which}`;

export function buildInferGraph(spec: InferGraphSpec): Graph {
  const { config: c, B, L, S, R } = spec;
  const g = new Graph(`infer_B${B}_L${L}_S${S}`);
  const hd = c.head_dim;
  const KV = c.num_key_value_heads;
  const keys = S || L;
  const fused = !!spec.fused && S > 0;
  // fused: int64 as RotaryEmbedding takes them (an in-graph Cast of int32 failed under graph capture)
  const positions = g.input('position_ids', fused ? 'int64' : 'int32', [B, L]);
  const ids = g.input('input_ids', 'int32', [B, L]);
  const cosT = g.input('rope_cos', 'float32', [keys, hd]);
  const sinT = g.input('rope_sin', 'float32', [keys, hd]);
  const bias = g.input('attn_bias', 'float32', [B, 1, 1, L, keys]);
  const rows = g.input('rows', 'int32', [R]);
  const w = new Map<string, Value>();
  for (const [name, shape] of spec.weightShapes)
    w.set(name, weightInput(g, name, shape, storedDtype(name, spec.storage ?? 'float32')));
  let cache: KvCache | undefined;
  if (S > 0) {
    const k: Value[] = [];
    const v: Value[] = [];
    for (let i = 0; i < c.num_hidden_layers; i++) {
      k.push(g.input(`past.k.${i}`, 'float32', fused ? [B, KV, hd, S] : [B, KV, S, hd]));
      v.push(g.input(`past.v.${i}`, 'float32', [B, KV, S, hd]));
    }
    cache = { k, v, write: g.input('cache_write', 'float32', [B, 1, S, L]), outK: [], outV: [] };
  }
  let lora: LoraGraph | undefined;
  if (spec.lora) {
    const slots = new Map<string, LoraSlot>();
    for (const s of spec.lora.specs) {
      slots.set(slotKey(s.layer, s.module), {
        A: g.input(loraInput(s, 'A'), 'float32', [s.in, spec.lora.rank]),
        B: g.input(loraInput(s, 'B'), 'float32', [spec.lora.rank, s.out]),
      });
    }
    lora = { scale: 1, slot: (layer, module) => slots.get(slotKey(layer, module)) };
  }
  if (fused) {
    const ctx = { positions, cos: cosT, sin: sinT, bias, cache: cache as FusedCache };
    const x = fusedDecoder(c, w, ids, ctx, lora); // (B·L, D), normed
    g.output(fusedLogits(c, w, o.gather(x, rows)), 'logits'); // (R, V)
  } else {
    const h = decoder(c, w, ids, { ...ropeAt(cosT, sinT, positions), bias, cache }, lora); // (B·L, D)
    g.output(logits(c, w, o.gather(h, rows)), 'logits'); // (R, V)
  }
  if (cache) {
    cache.outK.forEach((t, i) => g.output(t, `present.k.${i}`));
    cache.outV.forEach((t, i) => g.output(t, `present.v.${i}`));
  }
  return g;
}
