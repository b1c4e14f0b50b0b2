// Inference graphs: the decoder over L new tokens with a static KV cache of S slots (prefill: L = prompt
// bucket; decode: L = 1), returning logits for chosen rows. Fused graphs attend with GroupQueryAttention
// (rows right-padded, each row's filled slots only); the others with an additive mask (rows left-padded). LoRA A/B are inputs (B pre-scaled), so
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
  /** fused onnxruntime ops (model/fused.ts: fewer GPU dispatches; GroupQueryAttention over a right-padded
   *  cache of S slots, inputs seqlens_k and total_sequence_length instead of attn_bias/cache_write); S > 0 */
  fused?: boolean;
  /** fused: total_sequence_length as a constant (graph capture: S, as the captured graph replays it) instead
   *  of an input */
  total?: number;
}

export const loraInput = (s: LoraSpec, which: 'A' | 'B') => `lora.${slotKey(s.layer, s.module)}.${which}`;

export function buildInferGraph(spec: InferGraphSpec): Graph {
  const { config: c, B, L, S, R } = spec;
  const g = new Graph(`infer_B${B}_L${L}_S${S}`);
  const hd = c.head_dim;
  const KV = c.num_key_value_heads;
  const keys = S || L;
  const fused = !!spec.fused && S > 0;
  const ids = g.input('input_ids', 'int32', [B, L]);
  const cosT = g.input('rope_cos', 'float32', [keys, hd]);
  const sinT = g.input('rope_sin', 'float32', [keys, hd]);
  // fused: positions come from seqlens_k inside GroupQueryAttention; no mask, no write matrix
  const positions = fused ? undefined : g.input('position_ids', 'int32', [B, L]);
  const bias = fused ? undefined : g.input('attn_bias', 'float32', [B, 1, 1, L, keys]);
  const rows = g.input('rows', 'int32', [R]);
  const w = new Map<string, Value>();
  for (const [name, shape] of spec.weightShapes)
    w.set(name, weightInput(g, name, shape, storedDtype(name, spec.storage ?? 'float32')));
  const k: Value[] = [];
  const v: Value[] = [];
  for (let i = 0; i < (S > 0 ? c.num_hidden_layers : 0); i++) {
    k.push(g.input(`past.k.${i}`, 'float32', [B, KV, S, hd])); // (B, KV, S, hd)
    v.push(g.input(`past.v.${i}`, 'float32', [B, KV, S, hd]));
  }
  let cache: KvCache | undefined;
  let fusedCache: FusedCache | undefined;
  if (fused) {
    const seqlens = g.input('seqlens_k', 'int32', [B]);
    const total =
      spec.total !== undefined
        ? g.constant(Int32Array.of(spec.total), 'int32', [], 'total_sequence_length')
        : g.input('total_sequence_length', 'int32', []);
    fusedCache = { k, v, seqlens, total, outK: [], outV: [] };
  } else if (S > 0) {
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
  if (fusedCache) {
    const x = fusedDecoder(c, w, ids, { cos: cosT, sin: sinT, cache: fusedCache }, lora); // (B·L, D), normed
    g.output(fusedLogits(c, w, o.gather(x, rows)), 'logits'); // (R, V)
  } else {
    const rope = ropeAt(cosT, sinT, positions!);
    const h = decoder(c, w, ids, { ...rope, bias: bias!, cache }, lora); // (B·L, D)
    g.output(logits(c, w, o.gather(h, rows)), 'logits'); // (R, V)
  }
  const out = fusedCache ?? cache;
  if (out) {
    out.outK.forEach((t, i) => g.output(t, `present.k.${i}`));
    out.outV.forEach((t, i) => g.output(t, `present.v.${i}`));
  }
  return g;
}
