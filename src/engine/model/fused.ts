// The inference decoder (prefill and decode over a static KV cache) built from onnxruntime's fused ops, for
// fewer GPU dispatches per token than model/llama.ts: SimplifiedLayerNormalization (one-kernel RMSNorm),
// SkipSimplifiedLayerNormalization (residual add + RMSNorm), RotaryEmbedding (com.microsoft, rotate-half),
// cache writes as one Where, LoRA B products as Gemm with the base output as C. Same maths as llama.ts
// (logits within float rounding); no gradient rules, so inference only. The K cache is stored transposed.
import { type Value } from '../graph/ir';
import * as o from '../graph/ops';
import type { ModelConfig } from './config';
import { headParts, layerWeights, type LayerWeights, type LoraGraph } from './llama';
import type { TargetModule } from './lora-config';
import { gatherRows, projectRows, vocabParts } from './vocab';

export interface FusedContext {
  /** (B, T) int64 (or int32) positions of the new tokens */ positions: Value;
  /** (P, hd) rotary tables in llama.ts' layout (cat(freqs, freqs)); P > every position */ cos: Value;
  sin: Value;
  /** additive mask (B, 1, 1, T, S) */ bias: Value;
  cache: FusedCache;
}

/** KV cache of S slots per layer: keys transposed (B, KV, hd, S), values (B, KV, S, hd). */
export interface FusedCache {
  k: Value[];
  v: Value[];
  /** (B, 1, S, T): 1 where slot s receives new token t (at most one token per slot) */ write: Value;
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

/** Rotate-half rotary embedding of x (B, T, N·hd) at positions (B, T) int64; tables (P, hd/2). */
function rotary(x: Value, positions: Value, cos: Value, sin: Value, heads: number): Value {
  return x.graph.node(
    'RotaryEmbedding',
    [x, positions, cos, sin],
    { interleaved: 0, num_heads: heads },
    [{ dtype: x.dtype, shape: x.shape }],
    'com.microsoft',
  )[0];
}

/** x·Wᵀ (+ bias) (+ (x·A)·B, B pre-scaled): the LoRA product added by Gemm's C input. x: (M, in) */
function proj(x: Value, lw: LayerWeights, name: string, module: TargetModule, i: number, lora?: LoraGraph) {
  const y = o.gemm(x, lw(`${name}.weight`)!, lw(`${name}.bias`) ?? null, true); // (M, out)
  const slot = lora?.slot(i, module);
  if (!slot) return y;
  const low = o.matmul(x, slot.A); // (M, r)
  return o.gemm(lora!.scale === 1 ? low : o.mul(low, lora!.scale), slot.B, y, false); // (M, out)
}

interface Shared {
  pos64: Value;
  cosQ: Value;
  sinQ: Value;
  cosK: Value;
  sinK: Value;
  /** (B, 1, S, 1) bool: slots written by this run */ col: Value;
  /** (B, 1, 1, S) bool */ row: Value;
  /** (B, 1, T, S) the write matrix transposed (prefill) */ writeT?: Value;
}

function shared(c: ModelConfig, ctx: FusedContext, T: number): Shared {
  const hd = c.head_dim;
  const g = ctx.positions.graph;
  const cosK = o.slice(ctx.cos, 1, 0, hd / 2); // (P, hd/2)
  const sinK = o.slice(ctx.sin, 1, 0, hd / 2);
  // softmax(q·kᵀ/√hd): the 1/√hd folded into q's rotary tables (rotation is linear)
  const scale = 1 / Math.sqrt(hd);
  const w = ctx.cache.write; // (B, 1, S, T)
  const [B, , S] = w.shape;
  const col = o.greater(o.reduceSum(w, [-1]), g.scalar(0.5)); // (B, 1, S, 1)
  return {
    pos64: ctx.positions.dtype === 'int64' ? ctx.positions : o.cast(ctx.positions, 'int64'),
    cosQ: o.mul(cosK, scale),
    sinQ: o.mul(sinK, scale),
    cosK,
    sinK,
    col,
    row: o.reshape(col, [B, 1, 1, S]),
    writeT: T > 1 ? o.transpose(w, [0, 1, 3, 2]) : undefined,
  };
}

function attention(
  c: ModelConfig,
  x: Value,
  lw: LayerWeights,
  i: number,
  B: number,
  T: number,
  sh: Shared,
  ctx: FusedContext,
  lora?: LoraGraph,
) {
  const H = c.num_attention_heads;
  const KV = c.num_key_value_heads;
  const hd = c.head_dim;
  const rep = H / KV;
  const cache = ctx.cache;
  const S = cache.v[i].shape[2];
  let q = proj(x, lw, 'self_attn.q_proj', 'q_proj', i, lora); // (B·T, H·hd)
  let k = proj(x, lw, 'self_attn.k_proj', 'k_proj', i, lora); // (B·T, KV·hd)
  const v = proj(x, lw, 'self_attn.v_proj', 'v_proj', i, lora); // (B·T, KV·hd)
  if (c.qk_norm) {
    q = simplifiedNorm(o.reshape(q, [B * T, H, hd]), lw('self_attn.q_norm.weight')!, c.rms_norm_eps);
    k = simplifiedNorm(o.reshape(k, [B * T, KV, hd]), lw('self_attn.k_norm.weight')!, c.rms_norm_eps);
  }
  q = rotary(o.reshape(q, [B, T, H * hd]), sh.pos64, sh.cosQ, sh.sinQ, H); // (B, T, H·hd), scaled by 1/√hd
  k = rotary(o.reshape(k, [B, T, KV * hd]), sh.pos64, sh.cosK, sh.sinK, KV); // (B, T, KV·hd)
  let kNew: Value; // (B, KV, hd, S or 1)
  let vNew: Value; // (B, KV, S or 1, hd)
  if (T === 1) {
    // one new token: its (1, KV, hd) rows are already in the cache's layouts, and Where broadcasts it
    kNew = o.reshape(k, [B, KV, hd, 1]);
    vNew = o.reshape(v, [B, KV, 1, hd]);
  } else {
    kNew = o.matmul(o.transpose(o.reshape(k, [B, T, KV, hd]), [0, 2, 3, 1]), sh.writeT!); // (B, KV, hd, S)
    vNew = o.matmul(cache.write, o.transpose(o.reshape(v, [B, T, KV, hd]), [0, 2, 1, 3])); // (B, KV, S, hd)
  }
  const kT = o.where(sh.row, kNew, cache.k[i]); // (B, KV, hd, S)
  const vAll = o.where(sh.col, vNew, cache.v[i]); // (B, KV, S, hd)
  cache.outK[i] = kT;
  cache.outV[i] = vAll;
  // GQA without copying K/V: the rep query heads of each KV head are stacked along the query axis
  const qg =
    T === 1
      ? o.reshape(q, [B, KV, rep, hd])
      : o.reshape(o.transpose(o.reshape(q, [B, T, H, hd]), [0, 2, 1, 3]), [B, KV, rep * T, hd]); // (B, KV, rep·T, hd)
  const scores = o.reshape(o.matmul(qg, kT), [B, KV, rep, T, S]); // (B, KV, rep, T, S)
  const probs = o.softmax(o.add(scores, ctx.bias), -1); // (B, KV, rep, T, S)
  const out = o.matmul(o.reshape(probs, [B, KV, rep * T, S]), vAll); // (B, KV, rep·T, hd)
  const merged =
    T === 1
      ? o.reshape(out, [B, H * hd])
      : o.reshape(o.transpose(o.reshape(out, [B, H, T, hd]), [0, 2, 1, 3]), [B * T, H * hd]); // (B·T, H·hd)
  return proj(merged, lw, 'self_attn.o_proj', 'o_proj', i, lora); // (B·T, D)
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
  const eps = c.rms_norm_eps;
  const sh = shared(c, ctx, T);
  let h = o.reshape(gatherRows(vocabParts(w, 'model.embed_tokens.weight'), ids), [B * T, c.hidden_size]); // (B·T, D)
  const L = c.num_hidden_layers;
  let x = simplifiedNorm(h, layerWeights(w, 0)('input_layernorm.weight')!, eps); // (B·T, D)
  for (let i = 0; i < L; i++) {
    const lw = layerWeights(w, i);
    h.graph.scope(`layer${i}`, () => {
      const a = skipNorm(
        attention(c, x, lw, i, B, T, sh, ctx, lora),
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
