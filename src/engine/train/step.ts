// The training step as one graph: forward → masked cross-entropy (HF convention) → LoRA gradients →
// global grad norm and clipping → AdamW (torch semantics). Also the accumulate-only and eval variants.
// The LM head and cross-entropy run over the labelled rows only, in chunks, with the gradient of the loss
// w.r.t. those rows written directly (softmax − onehot), which autodiff then carries into the decoder.
import { Graph, type Value } from '../graph/ir';
import * as o from '../graph/ops';
import { backward } from '../autodiff/backward';
import type { ModelConfig } from '../model/config';
import { attentionBias, decoder, headParts, ropeAt, type LoraGraph, type LoraSlot } from '../model/llama';
import { flatLayout, slotKey, type FlatEntry, type LoraSpec } from '../model/lora';
import { backProjectRows, gatherRows, projectRows } from '../model/vocab';
import { ALL_LINEAR } from './config';
import { dropoutMask, neftune } from './dropout';
import { storedDtype, weightInput, type WeightStorage } from '../model/weight-inputs';

export type StepMode = 'train' | 'accumulate' | 'eval';

export interface StepGraphSpec {
  config: ModelConfig;
  weightShapes: Map<string, number[]>;
  /** dtype of the base weights on the device (float16 is cast to float32 inside the graph) */
  storage?: WeightStorage;
  specs: LoraSpec[];
  rank: number;
  scale: number;
  dropout: number;
  mode: StepMode;
  /** sequences per micro-batch */ B: number;
  /** tokens per sequence (bucket) */ T: number;
  /** labelled rows per micro-batch (bucket); padding rows have weight 0 */ N: number;
  /** rows of logits per cross-entropy chunk */ chunk: number;
  /** add the gradient accumulated by earlier micro-batches (input `acc`) */
  accumulateIn: boolean;
  /** clip the global grad norm to input max_norm */
  clip: boolean;
  /** NEFTune noise on the embeddings (input `neftune_scale`, seeded by `dropout_seed`) */
  neftune?: boolean;
}

/** Cross-entropy over labelled rows h (N, D); returns Σ w·CE and d(Σ w·CE)/dh when asked. */
export function lossHead(
  c: ModelConfig,
  w: Map<string, Value>,
  h: Value,
  ids: Value,
  wts: Value,
  chunk: number,
  grad: boolean,
) {
  const g = h.graph;
  const [N] = h.shape;
  const W = headParts(c, w); // (V, D) in vocabulary parts
  const losses: Value[] = [];
  const dhs: Value[] = [];
  for (let at = 0; at < N; at += chunk) {
    const n = Math.min(chunk, N - at);
    g.scope(`ce${at}`, () => {
      const hc = o.slice(h, 0, at, at + n); // (n, D)
      const idc = o.slice(ids, 0, at, at + n); // (n, 1)
      const wc = o.reshape(o.slice(wts, 0, at, at + n), [n, 1]); // (n, 1)
      // Two passes over the (n, V) logits besides their product: softmax p, and the maxima of z and of p.
      // max p = exp(max z − logsumexp z) ≥ 1/V never underflows, so logsumexp = max z − log(max p).
      const z = projectRows(hc, W); // (n, V) logits
      const m = o.reduceMax(z, [1]); // (n, 1)
      const p = o.softmax(z, 1); // (n, V)
      const lse = o.sub(m, o.log(o.reduceMax(p, [1]))); // (n, 1)
      const picked = o.gatherElements(z, idc, 1); // (n, 1)
      losses.push(o.reduceSum(o.mul(o.sub(lse, picked), wc), [0, 1], false)); // ()
      // d(w·CE)/dh = w·(p − onehot(y))·W = w·(p·W − W[y]): no one-hot, the label rows gathered from W
      if (grad) dhs.push(o.mul(o.sub(backProjectRows(p, W), gatherRows(W, o.reshape(idc, [n]))), wc)); // (n, D)
    });
  }
  return { loss: o.sum(losses), dh: grad ? (dhs.length === 1 ? dhs[0] : o.concat(dhs, 0)) : null };
}

/** Norm weight applied before the head; rows are gathered first so the norm runs on N rows only. */
export function finalNorm(c: ModelConfig, w: Map<string, Value>, h: Value) {
  return o.rmsNorm(h, w.get('model.norm.weight')!, c.rms_norm_eps);
}

export function buildStepGraph(spec: StepGraphSpec): Graph {
  const { config: c, B, T, N, mode } = spec;
  const g = new Graph(`${mode}_B${B}_T${T}_N${N}`);
  const hd = c.head_dim;
  const ids = g.input('input_ids', 'int32', [B, T]);
  const positions = g.input('position_ids', 'int32', [B, T]);
  const segments = g.input('segment_ids', 'float32', [B, T]);
  const cosT = g.input('rope_cos', 'float32', [T, hd]);
  const sinT = g.input('rope_sin', 'float32', [T, hd]);
  const labelPos = g.input('label_pos', 'int32', [N]);
  const labelIds = g.input('label_ids', 'int32', [N, 1]);
  const labelW = g.input('label_w', 'float32', [N]);
  const w = new Map<string, Value>();
  for (const [name, shape] of spec.weightShapes)
    w.set(name, weightInput(g, name, shape, storedDtype(name, spec.storage ?? 'float32')));

  // all LoRA tensors live in one flat vector (A then B of each slot): one input, and the optimizer, the norm
  // and the accumulation are a handful of nodes over it instead of a dozen per tensor
  const layout = flatLayout(spec.specs, spec.rank);
  const flat = g.input('params', 'float32', [layout.size]);
  const { slots, params } = loraSlots(flat, layout);
  const training = mode !== 'eval';
  const noisy = training && !!spec.neftune;
  let dropoutSeed: Value | undefined;
  if ((spec.dropout > 0 || noisy) && training) dropoutSeed = g.input('dropout_seed', 'int32', [1]);
  const noiseScale = noisy ? g.input('neftune_scale', 'float32', [B * T, 1]) : undefined;
  const lora: LoraGraph = {
    scale: spec.scale,
    slot: (layer, module) => slots.get(slotKey(layer, module)),
    dropout:
      spec.dropout > 0 && dropoutSeed
        ? (x, layer, module) =>
            o.mul(x, dropoutMask(x, dropoutSeed!, layer * 8 + ALL_LINEAR.indexOf(module), spec.dropout))
        : undefined,
  };

  const noise = noiseScale ? (x: Value) => neftune(x, dropoutSeed!, noiseScale) : undefined;
  const ctx = { ...ropeAt(cosT, sinT, positions), bias: attentionBias(segments) };
  const h = decoder(c, w, ids, ctx, lora, noise); // (B·T, D)
  const rows = finalNorm(c, w, o.gather(h, labelPos)); // (N, D)
  const { loss, dh } = lossHead(c, w, rows, labelIds, labelW, spec.chunk, mode !== 'eval');
  g.output(loss, 'loss');
  if (mode === 'eval') return g;

  const parts = backward(rows, params, dh!);
  let grad = o.concat(
    parts.map((gr) => o.reshape(gr, [-1])),
    0,
  ); // (P)
  if (spec.accumulateIn) grad = o.add(grad, g.input('acc', 'float32', [layout.size]));
  if (mode === 'accumulate') {
    g.output(grad, 'acc_out');
    return g;
  }

  const norm = o.sqrt(sumSquares(grad)); // global norm over all LoRA gradients
  g.output(norm, 'grad_norm');
  const opt = optimizerInputs(g, spec.clip);
  const { p, m, v } = adamw(
    opt,
    flat,
    clipped(opt, grad, norm),
    g.input('m', 'float32', [layout.size]),
    g.input('v', 'float32', [layout.size]),
  );
  g.output(p, 'new.params');
  g.output(m, 'new.m');
  g.output(v, 'new.v');
  return g;
}

/** The slots of a flat LoRA vector: (A [in, r], B [r, out]) per layer/module, and the tensors in layout order. */
export function loraSlots(flat: Value, layout: { entries: FlatEntry[] }) {
  const slots = new Map<string, LoraSlot>();
  const params: Value[] = [];
  for (const e of layout.entries) {
    const t = o.reshape(o.slice(flat, 0, e.offset, e.offset + e.dims[0] * e.dims[1]), e.dims);
    params.push(t);
    const key = slotKey(e.spec.layer, e.spec.module);
    slots.set(key, { ...(slots.get(key) ?? {}), [e.which]: t } as LoraSlot);
  }
  return { slots, params };
}

export interface OptimizerInputs {
  /** 1 − lr·wd */ decay: Value;
  /** lr / (1 − β1^t) */ stepSize: Value;
  /** √(1 − β2^t) */ bc2Sqrt: Value;
  /** clip_grad_norm_'s max_norm; absent when clipping is off */ maxNorm?: Value;
}

export function optimizerInputs(g: Graph, clip: boolean): OptimizerInputs {
  return {
    decay: g.input('decay', 'float32', []),
    stepSize: g.input('step_size', 'float32', []),
    bc2Sqrt: g.input('bc2_sqrt', 'float32', []),
    maxNorm: clip ? g.input('max_norm', 'float32', []) : undefined,
  };
}

/**
 * Σ x² of a 1-D tensor in two levels (blocks of 4096, then the blocks' sums): one float32 reduction over
 * millions of entries loses ~1e-3 of the sum (Qwen2.5-0.5B r16 all-linear: 8.8M entries, a gradient norm 1.8e-3
 * below float64's); blocks keep it at float32 rounding.
 */
export function sumSquares(x: Value): Value {
  const n = x.shape[0];
  const b = 4096;
  if (n <= b) return o.reduceSum(o.square(x), [0], false);
  const pad = (b - (n % b)) % b;
  const padded = pad
    ? o.concat([x, x.graph.constant(new Float32Array(pad), 'float32', [pad], 'zeros')], 0)
    : x;
  const blocks = o.reduceSum(o.square(o.reshape(padded, [(n + pad) / b, b])), [1], false);
  return o.reduceSum(blocks, [0], false);
}

/** torch's clip_grad_norm_: scale by max_norm / (norm + 1e-6) when that is below 1. */
export function clipped(opt: OptimizerInputs, grad: Value, norm: Value): Value {
  if (!opt.maxNorm) return grad;
  const coef = o.div(opt.maxNorm, o.add(norm, 1e-6));
  return o.mul(grad, o.where(o.less(coef, 1), coef, grad.graph.scalar(1)));
}

/** AdamW (torch.optim.AdamW): p ← p·(1 − lr·wd); m, v moments; p ← p − (lr/bc1)·m / (√v/√bc2 + ε). */
export function adamw(opt: OptimizerInputs, p: Value, grad: Value, m: Value, v: Value) {
  const b1 = 0.9;
  const b2 = 0.999;
  const m1 = o.add(o.mul(m, b1), o.mul(grad, 1 - b1));
  const v1 = o.add(o.mul(v, b2), o.mul(o.square(grad), 1 - b2));
  const denom = o.add(o.div(o.sqrt(v1), opt.bc2Sqrt), 1e-8);
  return { p: o.sub(o.mul(p, opt.decay), o.mul(opt.stepSize, o.div(m1, denom))), m: m1, v: v1 };
}
