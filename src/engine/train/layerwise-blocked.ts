// The layer-wise plan's layer split into graphs so that no graph holds more than one query block's attention
// scores (B·H·Q·T floats instead of B·H·T·T): onnxruntime keeps every tensor of one graph that its backward
// reads alive, so a 4096-token row's scores (~940 MB per tensor on Qwen2.5-0.5B) cannot be blocked inside
// one graph. Per layer:
//   `qkv`       h → q in query blocks, k, v (norm, projections + LoRA, q/k norms, rotary);
//   `attn`      one query block [t₀, t₀+Q): q rows, k, v → that block's rows of the attention output, over
//               the keys [0, t₀+Q) only (causal: every later key is masked for these queries);
//   `post`      h and the attention output → h_out (o_proj, residual, MLP; per token);
//   `post_grad` the same with dh_out → dh through the residual, d(attention output) and its LoRA gradient;
//   `attn_grad` one query block's backward (recomputes its probabilities): dq rows, dk and dv summed over
//               the blocks through `acc_k`/`acc_v`;
//   `qkv_grad`  backward of `qkv` from dq, dk, dv → dh, and the layer's whole LoRA gradient (+ `acc`).
// The model code is model/llama.ts's (attentionInputs, attend, afterAttention); dropout masks hash the same
// (seed, layer, module, flat row) as the other plans, so every plan draws identical masks.
import { backward } from '../autodiff/backward';
import { Graph, type Value } from '../graph/ir';
import * as o from '../graph/ops';
import { afterAttention, attend, attentionBias, attentionInputs } from '../model/llama';
import type { TargetModule } from '../model/lora-config';
import { layerInputs, type LayerwiseSpec } from './layerwise';

const QKV: readonly TargetModule[] = ['q_proj', 'k_proj', 'v_proj'];
const POST: readonly TargetModule[] = ['o_proj', 'gate_proj', 'up_proj', 'down_proj'];
const qkvWeight = (n: string) => n.startsWith('input_layernorm') || /^self_attn\.[qkv]_/.test(n);
const postWeight = (n: string) => !qkvWeight(n);

/** Query block sizes covering T: blocks of Q, the last one shorter when Q does not divide T. */
export function queryBlocks(T: number, Q: number): number[] {
  const out: number[] = [];
  for (let t = 0; t < T; t += Q) out.push(Math.min(Q, T - t));
  return out;
}

const flat = (x: Value) => o.reshape(x, [-1]);

/**
 * `qkv` (grad false) or `qkv_grad`. Forward outputs q_j (B, H, Q_j, hd) per query block, k and v
 * (B, KV, T, hd). The backward takes dq_j, dk, dv, `dh_res` (dh through the residual, from `post_grad`) and
 * `grad_post` (post_grad's LoRA gradient) → dh (B·T, D) and the layer's flat gradient `grad` (+ `acc`).
 */
export function buildQkvGraph(
  s: LayerwiseSpec,
  blocks: number[],
  train: boolean,
  grad: false | { accumulateIn: boolean; postSize: number },
): Graph {
  const { config: c, B, T } = s;
  const D = c.hidden_size;
  const hd = c.head_dim;
  const H = c.num_attention_heads;
  const KV = c.num_key_value_heads;
  const g = new Graph(`${grad ? 'qkv_grad' : train ? 'qkv' : 'qkv_eval'}_B${B}_T${T}_Q${blocks[0]}`);
  const h = g.input('h', 'float32', [B * T, D]);
  const cos = g.input('cos', 'float32', [B, 1, T, hd]);
  const sin = g.input('sin', 'float32', [B, 1, T, hd]);
  const { w, lora, params, layout, entries } = layerInputs(g, s, train, qkvWeight, QKV);
  const x = o.rmsNorm(h, w.get('input_layernorm.weight')!, c.rms_norm_eps); // (B·T, D)
  const { q, k, v } = attentionInputs(c, x, (n) => w.get(n), 0, { B, T }, { cos, sin }, lora);
  if (!grad) {
    o.split(q, 2, blocks).forEach((qj, j) => g.output(qj, `q_${j}`)); // (B, H, Q_j, hd)
    g.output(k, 'keys'); // (B, KV, T, hd)
    g.output(v, 'values');
    return g;
  }
  const dq = o.concat(
    blocks.map((Q, j) => g.input(`dq_${j}`, 'float32', [B, H, Q, hd])),
    2,
  ); // (B, H, T, hd)
  const dk = g.input('dk', 'float32', [B, KV, T, hd]);
  const dv = g.input('dv', 'float32', [B, KV, T, hd]);
  const out = o.concat([flat(q), flat(k), flat(v)], 0);
  const seed = o.concat([flat(dq), flat(dk), flat(dv)], 0);
  const [dh, ...parts] = backward(out, [h, ...params], seed);
  g.output(o.add(dh, g.input('dh_res', 'float32', [B * T, D])), 'dh'); // (B·T, D)
  // the layer's gradient in flatLayout's order: q/k/v slots from here, the others from post_grad
  const mine = new Map(entries.map((e, n) => [e, flat(parts[n])]));
  const others = layout.entries.filter((e) => !mine.has(e));
  const sizes = others.map((e) => e.dims[0] * e.dims[1]);
  if (others.length) {
    const post = g.input('grad_post', 'float32', [grad.postSize]);
    const split = others.length > 1 ? o.split(post, 0, sizes) : [post];
    others.forEach((e, n) => mine.set(e, split[n]));
  }
  let sum = o.concat(
    layout.entries.map((e) => mine.get(e)!),
    0,
  ); // (P_layer)
  if (grad.accumulateIn) sum = o.add(sum, g.input('acc', 'float32', [layout.size]));
  g.output(sum, 'grad');
  return g;
}

/** The post-attention part's LoRA slice size (the `grad_post` that `post_grad` hands to `qkv_grad`). */
export function postGradSize(s: LayerwiseSpec): number {
  const { entries } = layerInputs(new Graph('size'), s, false, () => false, POST);
  return entries.reduce((n, e) => n + e.dims[0] * e.dims[1], 0);
}

/**
 * One query block's attention: q (B, H, Q, hd) at rows [q_start, q_start + Q), k, v (B, KV, T, hd),
 * segment_ids (B, T) → o (B, Q, H·hd). With `grad`: d_o → dq, dk, dv (dk/dv + acc_k/acc_v when accumulating).
 */
/**
 * `attn` / `attn_grad` of the query block [start, start + Q): only keys [0, start + Q) are read (the rest are
 * in the block's future), so block j costs (j + 1)/n of a full-width block; its dk, dv are zero beyond.
 */
export function buildAttnGraph(
  s: LayerwiseSpec,
  Q: number,
  start: number,
  grad: false | { accumulateIn: boolean },
): Graph {
  const { config: c, B, T } = s;
  const hd = c.head_dim;
  const H = c.num_attention_heads;
  const KV = c.num_key_value_heads;
  const K = Math.min(T, start + Q); // keys read
  const g = new Graph(
    `${grad ? 'attn_grad' : 'attn'}_B${B}_T${T}_Q${Q}_K${K}${grad && grad.accumulateIn ? '_acc' : ''}`,
  );
  const q = g.input('q', 'float32', [B, H, Q, hd]);
  const k = g.input('k', 'float32', [B, KV, T, hd]);
  const v = g.input('v', 'float32', [B, KV, T, hd]);
  const segments = g.input('segment_ids', 'float32', [B, T]);
  const first = g.constant(Int32Array.from([start]), 'int32', [1], 'q_start');
  const keys = (x: Value) => (K < T ? o.slice(x, 2, 0, K) : x); // (B, KV, K, hd)
  const seg = K < T ? o.slice(segments, 1, 0, K) : segments; // (B, K): the queries' rows lie inside
  const bias = attentionBias(seg, { start: first, count: Q }); // (B, 1, 1, Q, K)
  const out = o.reshape(attend(c, q, keys(k), keys(v), bias), [B, Q, H * hd]); // (B, Q, H·hd)
  if (!grad) {
    g.output(out, 'o');
    return g;
  }
  const [dq, dk, dv] = backward(out, [q, k, v], g.input('d_o', 'float32', [B, Q, H * hd]));
  g.output(dq, 'dq');
  g.output(grad.accumulateIn ? o.add(dk, g.input('acc_k', 'float32', dk.shape)) : dk, 'dk');
  g.output(grad.accumulateIn ? o.add(dv, g.input('acc_v', 'float32', dv.shape)) : dv, 'dv');
  return g;
}

/**
 * `post`: h (B·T, D) and the attention output in query blocks o_j (B, Q_j, H·hd) → h_out. `post_grad`:
 * dh_out → dh_res (dh through the residual and the MLP), d_o_j and `grad_post` (its LoRA slots' gradient).
 */
export function buildPostGraph(s: LayerwiseSpec, blocks: number[], train: boolean, grad: boolean): Graph {
  const { config: c, B, T } = s;
  const D = c.hidden_size;
  const A = c.num_attention_heads * c.head_dim;
  const g = new Graph(`${grad ? 'post_grad' : train ? 'post' : 'post_eval'}_B${B}_T${T}_Q${blocks[0]}`);
  const h = g.input('h', 'float32', [B * T, D]);
  const os = blocks.map((Q, j) => g.input(`o_${j}`, 'float32', [B, Q, A]));
  const attn = o.reshape(o.concat(os, 1), [B * T, A]); // (B·T, H·hd)
  const { w, lora, params } = layerInputs(g, s, train, postWeight, POST);
  const out = afterAttention(c, (n) => w.get(n), 0, h, attn, lora); // (B·T, D)
  if (!grad) {
    g.output(out, 'h_out');
    return g;
  }
  const [dh, dAttn, ...parts] = backward(out, [h, attn, ...params], g.input('dh_out', 'float32', [B * T, D]));
  g.output(dh, 'dh_res');
  o.split(o.reshape(dAttn, [B, T, A]), 1, blocks).forEach((d, j) => g.output(d, `d_o_${j}`));
  if (parts.length) g.output(o.concat(parts.map(flat), 0), 'grad_post');
  return g;
}
