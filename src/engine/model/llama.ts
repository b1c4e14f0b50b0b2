// The Llama-family decoder (llama / SmolLM2 / Llama 3.x, qwen2, qwen3) as graph builders, following
// transformers' modeling_llama / modeling_qwen2 / modeling_qwen3. Base weights are graph inputs with HF
// names and HF layouts ([out, in] projections, used through Gemm transB); LoRA adapters add
// scale · (x·Aᵀ)·Bᵀ with A, B stored transposed ([in, r], [r, out]) so no Transpose is needed.
import type { Value } from '../graph/ir';
import * as o from '../graph/ops';
import type { ModelConfig } from './config';
import { gatherRows, projectRows, vocabParts } from './vocab';
import type { TargetModule } from './lora-config';

export const NEG_INF = -1e9;

export interface LoraSlot {
  /** [in, r] */ A: Value;
  /** [r, out] */ B: Value;
}
export interface LoraGraph {
  scale: number;
  slot(layer: number, module: TargetModule): LoraSlot | undefined;
  /** Optional dropout on the adapter input (training only). */
  dropout?: (x: Value, layer: number, module: TargetModule) => Value;
}

export interface Dims {
  B: number;
  T: number;
}

/** One layer's weights by their name inside the layer, e.g. `self_attn.q_proj.weight`. */
export type LayerWeights = (name: string) => Value | undefined;

/** The weights of layer i from a map keyed by HF names. */
export const layerWeights =
  (w: Map<string, Value>, i: number): LayerWeights =>
  (name) =>
    w.get(`model.layers.${i}.${name}`);

function proj(
  x: Value, // (M, in)
  lw: LayerWeights,
  prefix: 'self_attn' | 'mlp',
  module: TargetModule,
  layer: number,
  lora: LoraGraph | undefined,
): Value {
  const weight = lw(`${prefix}.${module}.weight`)!; // (out, in)
  const y = o.gemm(x, weight, lw(`${prefix}.${module}.bias`) ?? null, true); // (M, out)
  const slot = lora?.slot(layer, module);
  if (!slot) return y;
  const xin = lora!.dropout ? lora!.dropout(x, layer, module) : x;
  const low = o.mul(o.matmul(xin, slot.A), lora!.scale); // (M, r)
  return o.add(y, o.matmul(low, slot.B)); // (M, out)
}

/** rotate_half convention: x·cos + rotate_half(x)·sin, rotate_half(x) = cat(−x₂, x₁). */
function rope(x: Value, cos: Value, sin: Value): Value {
  const half = x.shape.at(-1)! / 2;
  const [x1, x2] = o.split(x, -1, [half, half]);
  const rotated = o.concat([o.neg(x2), x1], -1);
  return o.add(o.mul(x, cos), o.mul(rotated, sin));
}

export interface AttnContext {
  /** (B, 1, T, hd) */ cos: Value;
  /** (B, 1, T, hd) */ sin: Value;
  /** additive mask (B, 1, 1, T, S): 0 where key s is visible to query t, NEG_INF elsewhere */ bias: Value;
  /** Static KV cache of S slots (generation); without it keys are the T new tokens (S = T). */
  cache?: KvCache;
}

/**
 * A static KV cache: per layer k/v of shape (B, KV, S, hd). New keys are written with a one-hot write
 * matrix (B, 1, S, T) — cache·(1 − Σ_t W) + W·k_new — which needs no scatter and no int64 indices.
 */
export interface KvCache {
  k: Value[];
  v: Value[];
  /** (B, 1, S, T): 1 where slot s receives new token t */ write: Value;
  /** filled per layer by the decoder: the updated caches */
  outK: Value[];
  outV: Value[];
}

function writeCache(cache: Value, write: Value, fresh: Value): Value {
  const keep = o.sub(write.graph.scalar(1), o.reduceSum(write, [-1])); // (B, 1, S, 1)
  return o.add(o.mul(cache, keep), o.matmul(write, fresh)); // (B, KV, S, hd)
}

/**
 * Additive attention mask from per-token segment ids (packing: tokens attend within their segment) and
 * causality. segments: (B, T) float32. With `queries`, only the rows of queries [start, start + count)
 * (start: int32 (1)): (B, 1, 1, count, T), for attention run in query blocks.
 */
export function attentionBias(segments: Value, queries?: { start: Value; count: number }): Value {
  const g = segments.graph;
  const [B, T] = segments.shape;
  const iota = g.constant(
    Float32Array.from({ length: T }, (_, i) => i),
    'float32',
    [T],
    'iota_t',
  );
  const Q = queries?.count ?? T;
  let qIndex = iota; // (Q) positions of the queries in the row
  let qSegments = segments; // (B, Q)
  if (queries) {
    const rows = o.add(
      g.constant(
        Int32Array.from({ length: Q }, (_, i) => i),
        'int32',
        [Q],
        'iota_q',
      ),
      queries.start,
    );
    qIndex = o.cast(rows, 'float32');
    qSegments = o.gather(segments, rows, 1);
  }
  const future = o.greater(o.reshape(iota, [1, T]), o.reshape(qIndex, [Q, 1])); // (Q, T): key after query
  const causal = o.where(future, g.scalar(NEG_INF), g.scalar(0)); // (Q, T)
  const same = o.equal(o.reshape(qSegments, [B, 1, 1, Q, 1]), o.reshape(segments, [B, 1, 1, 1, T])); // (B,1,1,Q,T)
  return o.where(same, causal, g.scalar(NEG_INF)); // (B, 1, 1, Q, T)
}

/** Rotary tables gathered at the given positions. table: (P, hd); positions: (B, T) int32. */
export function ropeAt(cosTable: Value, sinTable: Value, positions: Value): { cos: Value; sin: Value } {
  const [B, T] = positions.shape;
  const hd = cosTable.shape[1];
  return {
    cos: o.reshape(o.gather(cosTable, positions), [B, 1, T, hd]), // (B, 1, T, hd)
    sin: o.reshape(o.gather(sinTable, positions), [B, 1, T, hd]),
  };
}

/**
 * Queries, keys and values of one layer from its normed input x (B·T, D): projections (+ LoRA), Qwen3's q/k
 * norms and rotary. q: (B, H, T, hd), k and v: (B, KV, T, hd).
 */
export function attentionInputs(
  c: ModelConfig,
  x: Value,
  lw: LayerWeights,
  i: number,
  d: Dims,
  rot: { cos: Value; sin: Value },
  lora?: LoraGraph,
) {
  const { B, T } = d;
  const H = c.num_attention_heads;
  const KV = c.num_key_value_heads;
  const hd = c.head_dim;
  const p = 'self_attn';
  let q = o.reshape(proj(x, lw, p, 'q_proj', i, lora), [B, T, H, hd]); // (B, T, H, hd)
  let k = o.reshape(proj(x, lw, p, 'k_proj', i, lora), [B, T, KV, hd]); // (B, T, KV, hd)
  const v = o.transpose(o.reshape(proj(x, lw, p, 'v_proj', i, lora), [B, T, KV, hd]), [0, 2, 1, 3]); // (B, KV, T, hd)
  if (c.qk_norm) {
    q = o.rmsNorm(q, lw(`${p}.q_norm.weight`)!, c.rms_norm_eps);
    k = o.rmsNorm(k, lw(`${p}.k_norm.weight`)!, c.rms_norm_eps);
  }
  q = rope(o.transpose(q, [0, 2, 1, 3]), rot.cos, rot.sin); // (B, H, T, hd)
  k = rope(o.transpose(k, [0, 2, 1, 3]), rot.cos, rot.sin); // (B, KV, T, hd)
  return { q, k, v };
}

/**
 * Scaled dot-product attention of queries q (B, H, Tq, hd) over keys/values (B, KV, S, hd) with the additive
 * mask bias (B, 1, 1, Tq, S) → (B·Tq, H·hd), heads merged. Tq may be a block of the queries.
 */
export function attend(c: ModelConfig, q: Value, k: Value, v: Value, bias: Value): Value {
  const [B, H, T, hd] = q.shape;
  const KV = c.num_key_value_heads;
  const rep = H / KV;
  const S = k.shape[2];
  // GQA without copying K/V: the rep query heads of each KV head are stacked along the query axis
  const qg = o.reshape(o.mul(q, 1 / Math.sqrt(hd)), [B, KV, rep * T, hd]); // (B, KV, rep·T, hd)
  const scores = o.reshape(o.matmul(qg, o.transpose(k, [0, 1, 3, 2])), [B, KV, rep, T, S]); // (B, KV, rep, T, S)
  const probs = o.softmax(o.add(scores, bias), -1); // (B, KV, rep, T, S)
  const out = o.matmul(o.reshape(probs, [B, KV, rep * T, S]), v); // (B, KV, rep·T, hd)
  return o.reshape(o.transpose(o.reshape(out, [B, H, T, hd]), [0, 2, 1, 3]), [B * T, H * hd]); // (B·T, H·hd)
}

function attention(
  c: ModelConfig,
  x: Value,
  lw: LayerWeights,
  i: number,
  d: Dims,
  ctx: AttnContext,
  lora?: LoraGraph,
) {
  const qkv = attentionInputs(c, x, lw, i, d, ctx, lora);
  let { k, v } = qkv;
  if (ctx.cache) {
    k = writeCache(ctx.cache.k[i], ctx.cache.write, k); // (B, KV, S, hd)
    v = writeCache(ctx.cache.v[i], ctx.cache.write, v);
    ctx.cache.outK[i] = k;
    ctx.cache.outV[i] = v;
  }
  return attend(c, qkv.q, k, v, ctx.bias); // (B·T, H·hd)
}

function mlp(x: Value, lw: LayerWeights, i: number, lora?: LoraGraph) {
  const gate = proj(x, lw, 'mlp', 'gate_proj', i, lora); // (B·T, I)
  const up = proj(x, lw, 'mlp', 'up_proj', i, lora); // (B·T, I)
  return proj(o.mul(o.silu(gate), up), lw, 'mlp', 'down_proj', i, lora); // (B·T, D)
}

/**
 * The part of a layer after attention, per token: h1 = h + o_proj(attn), then h1 + mlp(norm(h1)).
 * h: (M, D), attn: (M, H·hd) → (M, D).
 */
export function afterAttention(
  c: ModelConfig,
  lw: LayerWeights,
  i: number,
  h: Value,
  attn: Value,
  lora?: LoraGraph,
): Value {
  const h1 = o.add(h, proj(attn, lw, 'self_attn', 'o_proj', i, lora)); // (M, D)
  const x1 = o.rmsNorm(h1, lw('post_attention_layernorm.weight')!, c.rms_norm_eps); // (M, D)
  return o.add(h1, mlp(x1, lw, i, lora)); // (M, D)
}

/**
 * One decoder layer: h + attn(norm(h)), then + mlp(norm(·)). h: (B·T, D) → (B·T, D).
 * `i` names the layer for LoRA slots, dropout and the KV cache; its weights come from `lw`.
 */
export function decoderLayer(
  c: ModelConfig,
  lw: LayerWeights,
  i: number,
  h: Value, // (B·T, D)
  d: Dims,
  ctx: AttnContext,
  lora?: LoraGraph,
): Value {
  const x = o.rmsNorm(h, lw('input_layernorm.weight')!, c.rms_norm_eps); // (B·T, D)
  return afterAttention(c, lw, i, h, attention(c, x, lw, i, d, ctx, lora), lora); // (B·T, D)
}

/** Token embeddings (in vocabulary parts). ids: (B, T) int32 → (B·T, D) */
export function embed(c: ModelConfig, w: Map<string, Value>, ids: Value): Value {
  const [B, T] = ids.shape;
  return o.reshape(gatherRows(vocabParts(w, 'model.embed_tokens.weight'), ids), [B * T, c.hidden_size]);
}

/**
 * Embedding and all decoder layers; returns the residual stream before the final norm.
 * ids: (B, T) int32 → (B·T, D)
 */
export function decoder(
  c: ModelConfig,
  w: Map<string, Value>,
  ids: Value,
  ctx: AttnContext,
  lora?: LoraGraph,
  /** applied to the embeddings before the first layer (NEFTune noise while training) */
  inputNoise?: (h: Value) => Value,
): Value {
  const [B, T] = ids.shape;
  let h = embed(c, w, ids); // (B·T, D)
  if (inputNoise) h = inputNoise(h);
  for (let i = 0; i < c.num_hidden_layers; i++) {
    h = h.graph.scope(`layer${i}`, () => decoderLayer(c, layerWeights(w, i), i, h, { B, T }, ctx, lora));
  }
  return h;
}

/** The LM head (V, D) in vocabulary parts: lm_head.weight, or the embedding when tied. */
export const headParts = (c: ModelConfig, w: Map<string, Value>) =>
  vocabParts(w, c.tie_word_embeddings ? 'model.embed_tokens.weight' : 'lm_head.weight');

/** Final norm then logits for the given rows. h: (N, D) → (N, V) */
export function logits(c: ModelConfig, w: Map<string, Value>, h: Value): Value {
  return projectRows(o.rmsNorm(h, w.get('model.norm.weight')!, c.rms_norm_eps), headParts(c, w));
}
