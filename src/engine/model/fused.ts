// The inference decoder (prefill and decode over a static KV cache) built from onnxruntime's fused ops, for
// fewer GPU dispatches per token than model/llama.ts: SimplifiedLayerNormalization (one-kernel RMSNorm),
// SkipSimplifiedLayerNormalization (residual add + RMSNorm), GroupQueryAttention (com.microsoft: rotary, cache
// write and attention over each row's filled slots in one op; the cache is updated in place where the caller
// binds it as both input and output), LoRA B products as Gemm with the base output as C. Same maths as
// llama.ts (logits within float rounding); no gradient rules, so inference only.
import { type Value } from '../graph/ir';
import * as o from '../graph/ops';
import type { ModelConfig } from './config';
import { headParts, layerWeights, type LayerWeights, type LoraGraph } from './llama';
import type { TargetModule } from './lora-config';
import { gatherRows, projectRows, vocabParts } from './vocab';

export interface FusedContext {
  /** (P, hd) rotary tables in llama.ts' layout (cat(freqs, freqs)); P > every position */ cos: Value;
  sin: Value;
  cache: FusedCache;
}

/**
 * KV cache of S slots per layer, keys and values (B, KV, S, hd). Row b's token at position p sits in slot p
 * (prompts are right-padded), so a run's T new tokens go to slots seqlens[b] + 1 − T … seqlens[b] and are
 * rotated at those positions; attention sees slots 0 … seqlens[b] of each row.
 */
export interface FusedCache {
  k: Value[];
  v: Value[];
  /** (B) int32: each row's filled slots after this run, minus one (GroupQueryAttention's seqlens_k) */
  seqlens: Value;
  /** int32 scalar: T for a first prompt; in decode ≥ every row's filled slots, ≤ S */ total: Value;
  outK: Value[];
  outV: Value[];
}
/** Drops an unused optional output (its name becomes '' in the ONNX node). */
const unused = (v: Value) => (v.name = '');

/** RMSNorm over the last axis in one kernel: x / sqrt(mean(x²) + eps) · w. */
export function simplifiedNorm(x: Value, w: Value, eps: number): Value {
  const [y, inv] = x.graph.node(
    'SimplifiedLayerNormalization',
    [x, w],
    { axis: -1, epsilon: { float: eps }, stash_type: 1 },
    [
      { dtype: x.dtype, shape: x.shape },
      { dtype: 'float32', shape: [...x.shape.slice(0, -1), 1] },
    ],
  );
  unused(inv);
  return y;
}

/** (x + skip, RMSNorm(x + skip)·w) in one kernel. x, skip: (N, D). */
export function skipNorm(x: Value, skip: Value, w: Value, eps: number): { sum: Value; normed: Value } {
  const shape = x.shape;
  const [normed, mean, inv, sum] = x.graph.node(
    'SkipSimplifiedLayerNormalization',
    [x, skip, w],
    { epsilon: { float: eps } },
    [
      { dtype: x.dtype, shape },
      { dtype: 'float32', shape: [...shape.slice(0, -1), 1] },
      { dtype: 'float32', shape: [...shape.slice(0, -1), 1] },
      { dtype: x.dtype, shape },
    ],
    'com.microsoft',
  );
  unused(mean);
  unused(inv);
  return { sum, normed };
}

/** x·Wᵀ (+ bias) (+ (x·A)·B, B pre-scaled): the LoRA product added by Gemm's C input. x: (M, in) */
function proj(x: Value, lw: LayerWeights, name: string, module: TargetModule, i: number, lora?: LoraGraph) {
  const y = o.gemm(x, lw(`${name}.weight`)!, lw(`${name}.bias`) ?? null, true); // (M, out)
  const slot = lora?.slot(i, module);
  if (!slot) return y;
  const low = o.matmul(x, slot.A); // (M, r)
  return o.gemm(lora!.scale === 1 ? low : o.mul(low, lora!.scale), slot.B, y, false); // (M, out)
}

/** onnxruntime's GroupQueryAttention on the CPU needs head_dim % 8 == 0, and % 16 == 0 when it rotates
 *  (measured: "head_size must be a multiple of 8", "… shall be a multiple of 16"); the target models have 64
 *  or 128. Other head sizes decode with llama.ts' ops. */
export const fusedSupported = (c: ModelConfig) => c.head_dim % 16 === 0;

/** Rotary tables as GroupQueryAttention takes them: (P, hd/2), the first half of llama.ts' (P, hd). */
function halfTables(c: ModelConfig, ctx: FusedContext) {
  const hd = c.head_dim;
  return { cos: o.slice(ctx.cos, 1, 0, hd / 2), sin: o.slice(ctx.sin, 1, 0, hd / 2) }; // (P, hd/2)
}
type Tables = ReturnType<typeof halfTables>;

function attention(
  c: ModelConfig,
  x: Value,
  lw: LayerWeights,
  i: number,
  B: number,
  T: number,
  rope: Tables,
  cache: FusedCache,
  lora?: LoraGraph,
) {
  const H = c.num_attention_heads;
  const KV = c.num_key_value_heads;
  const hd = c.head_dim;
  let q = proj(x, lw, 'self_attn.q_proj', 'q_proj', i, lora); // (B·T, H·hd)
  let k = proj(x, lw, 'self_attn.k_proj', 'k_proj', i, lora); // (B·T, KV·hd)
  const v = proj(x, lw, 'self_attn.v_proj', 'v_proj', i, lora); // (B·T, KV·hd)
  if (c.qk_norm) {
    q = simplifiedNorm(o.reshape(q, [B * T, H, hd]), lw('self_attn.q_norm.weight')!, c.rms_norm_eps);
    k = simplifiedNorm(o.reshape(k, [B * T, KV, hd]), lw('self_attn.k_norm.weight')!, c.rms_norm_eps);
  }
  const kv = cache.k[i].shape; // (B, KV, S, hd)
  // rotate-half rotary at each row's positions (from seqlens), cache write and causal GQA in one op
  const [out, presentK, presentV] = x.graph.node(
    'GroupQueryAttention',
    [
      o.reshape(q, [B, T, H * hd]),
      o.reshape(k, [B, T, KV * hd]),
      o.reshape(v, [B, T, KV * hd]),
      cache.k[i],
      cache.v[i],
      cache.seqlens,
      cache.total,
      rope.cos,
      rope.sin,
    ],
    {
      num_heads: H,
      kv_num_heads: KV,
      scale: { float: 1 / Math.sqrt(hd) },
      do_rotary: 1,
      rotary_interleaved: 0,
    },
    [
      { dtype: 'float32', shape: [B, T, H * hd] },
      { dtype: 'float32', shape: kv },
      { dtype: 'float32', shape: kv },
    ],
    'com.microsoft',
  );
  cache.outK[i] = presentK;
  cache.outV[i] = presentV;
  return proj(o.reshape(out, [B * T, H * hd]), lw, 'self_attn.o_proj', 'o_proj', i, lora); // (B·T, D)
}

function mlp(x: Value, lw: LayerWeights, i: number, lora?: LoraGraph) {
  const gate = proj(x, lw, 'mlp.gate_proj', 'gate_proj', i, lora); // (B·T, I)
  const up = proj(x, lw, 'mlp.up_proj', 'up_proj', i, lora); // (B·T, I)
  return proj(o.mul(o.silu(gate), up), lw, 'mlp.down_proj', 'down_proj', i, lora); // (B·T, D)
}

/**
 * Embedding, every layer and the final norm. ids: (B, T) int32 → normed hidden states (B·T, D), ready for
 * the LM head. Fills ctx.cache.outK/outV.
 */
export function fusedDecoder(
  c: ModelConfig,
  w: Map<string, Value>,
  ids: Value,
  ctx: FusedContext,
  lora?: LoraGraph,
): Value {
  const [B, T] = ids.shape;
  if (!fusedSupported(c)) throw new Error(`fused graphs need head_dim % 16 == 0, not ${c.head_dim}`);
  const eps = c.rms_norm_eps;
  const rope = halfTables(c, ctx);
  let h = o.reshape(gatherRows(vocabParts(w, 'model.embed_tokens.weight'), ids), [B * T, c.hidden_size]); // (B·T, D)
  const L = c.num_hidden_layers;
  let x = simplifiedNorm(h, layerWeights(w, 0)('input_layernorm.weight')!, eps); // (B·T, D)
  for (let i = 0; i < L; i++) {
    const lw = layerWeights(w, i);
    h.graph.scope(`layer${i}`, () => {
      const a = skipNorm(
        attention(c, x, lw, i, B, T, rope, ctx.cache, lora),
        h,
        lw('post_attention_layernorm.weight')!,
        eps,
      );
      const next =
        i + 1 < L ? layerWeights(w, i + 1)('input_layernorm.weight')! : w.get('model.norm.weight')!;
      const m = skipNorm(mlp(a.normed, lw, i, lora), a.sum, next, eps);
      h = m.sum;
      x = m.normed;
    });
  }
  return x; // (B·T, D) after the final norm
}

/** Logits of already-normed rows. x: (N, D) → (N, V) */
export const fusedLogits = (c: ModelConfig, w: Map<string, Value>, x: Value) =>
  projectRows(x, headParts(c, w));
