// The layer-wise training step (activation checkpointing, DESIGN §8) as five small graphs: `embed`
// (ids → h₀ plus rotary tables and the attention mask of the micro-batch), `layer` (hᵢ → hᵢ₊₁), `head`
// (h_L → loss and dh_L, cross-entropy in chunks as in step.ts), `layer_grad` (hᵢ, dhᵢ₊₁ → dhᵢ and the
// layer's LoRA gradient, recomputing the layer's forward inside) and `optimizer` (clip + AdamW over every
// layer's slice). Every layer runs the same compiled graph: weights and the LoRA slice are inputs.
import { backward } from '../autodiff/backward';
import { Graph, type Value } from '../graph/ir';
import * as o from '../graph/ops';
import type { ModelConfig } from '../model/config';
import { attentionBias, decoderLayer, embed, ropeAt, type LoraGraph } from '../model/llama';
import { flatLayout, slotKey, type LoraSpec } from '../model/lora';
import { ALL_LINEAR } from './config';
import { dropoutMask, neftune } from './dropout';
import { adamw, clipped, finalNorm, lossHead, loraSlots, optimizerInputs, sumSquares } from './step';
import { layerDtype, storedDtype, weightInput, type WeightStorage } from '../model/weight-inputs';

export interface LayerwiseSpec {
  config: ModelConfig;
  /** HF name → shape of every base weight on the device (vocabulary matrices possibly in parts) */
  weightShapes: Map<string, number[]>;
  /** dtype the base weights are stored in on the device (float16: cast to f32 inside the graphs) */
  storage: WeightStorage;
  /** the LoRA slots of ONE layer (layer index 0); every layer has the same */
  layerSpecs: LoraSpec[];
  rank: number;
  scale: number;
  dropout: number;
  /** NEFTune noise on the embeddings while training */
  neftune?: boolean;
  /** sequences per micro-batch */ B: number;
  /** tokens per sequence (bucket) */ T: number;
  /**
   * the graphs run a block of a micro-batch's rows: input `row_offset` (int32 (1), the block's first flat row
   * b·T) keeps dropout masks and NEFTune noise those of the whole micro-batch
   */
  rowBlock?: boolean;
  /** attention runs in query blocks (layerwise-blocked.ts): `embed` gives no (B, 1, 1, T, T) mask */
  blockedAttention?: boolean;
}

const LAYER_PREFIX = /^model\.layers\.0\./;

/** Names (inside a layer) and shapes of one layer's weights, from layer 0's. */
export function layerWeightShapes(shapes: Map<string, number[]>): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const [name, shape] of shapes)
    if (LAYER_PREFIX.test(name)) out.set(name.replace(LAYER_PREFIX, ''), shape);
  return out;
}

/** Size of one layer's slice of the flat LoRA vector (layers are contiguous in flatLayout's order). */
export const layerSliceSize = (layerSpecs: LoraSpec[], rank: number) => flatLayout(layerSpecs, rank).size;

/**
 * ids → h₀ (B·T, D), and what every layer of the micro-batch shares: rotary cos/sin and the mask. While
 * training with NEFTune, h₀ gets its noise (inputs `dropout_seed`, `neftune_scale`).
 */
export function buildEmbedGraph(s: LayerwiseSpec, train: boolean): Graph {
  const { config: c, B, T } = s;
  const noisy = train && !!s.neftune;
  const g = new Graph(`embed_B${B}_T${T}${noisy ? '_neftune' : ''}`);
  const hd = c.head_dim;
  const ids = g.input('input_ids', 'int32', [B, T]);
  const positions = g.input('position_ids', 'int32', [B, T]);
  const segments = g.input('segment_ids', 'float32', [B, T]);
  const cosT = g.input('rope_cos', 'float32', [T, hd]);
  const sinT = g.input('rope_sin', 'float32', [T, hd]);
  const w = new Map<string, Value>();
  for (const [name, shape] of s.weightShapes)
    // a float16 embedding is read raw: gatherRows casts only the gathered rows
    if (name.startsWith('model.embed_tokens.weight'))
      w.set(name, g.input(name, storedDtype(name, s.storage), shape));
  let h = embed(c, w, ids); // (B·T, D)
  if (noisy) {
    const seed = g.input('dropout_seed', 'int32', [1]);
    const rowBase = s.rowBlock ? g.input('row_offset', 'int32', [1]) : undefined;
    h = neftune(h, seed, g.input('neftune_scale', 'float32', [B * T, 1]), rowBase);
  }
  g.output(h, 'h');
  const { cos, sin } = ropeAt(cosT, sinT, positions); // (B, 1, T, hd)
  g.output(cos, 'cos');
  g.output(sin, 'sin');
  if (!s.blockedAttention) g.output(attentionBias(segments), 'bias'); // (B, 1, 1, T, T)
  return g;
}

/**
 * A layer graph's inputs: the layer's weights (those whose name passes `keep`), its LoRA slice `params` (the
 * slots of `modules`, default all) and, while training with dropout, the mask inputs — the same hash as the
 * whole-model graph: salt = layer·8 + module, the layer's part given as an input (`layer_salt`).
 */
export function layerInputs(
  g: Graph,
  s: LayerwiseSpec,
  train: boolean,
  keep: (name: string) => boolean = () => true,
  modules?: readonly string[],
) {
  const w = new Map<string, Value>();
  for (const [name, shape] of layerWeightShapes(s.weightShapes))
    if (keep(name)) w.set(name, weightInput(g, name, shape, layerDtype(s.storage)));
  const layout = flatLayout(s.layerSpecs, s.rank);
  const flat = g.input('params', 'float32', [layout.size]);
  const entries = layout.entries.filter((e) => !modules || modules.includes(e.spec.module));
  const { slots, params } = loraSlots(flat, { entries });
  let dropout: LoraGraph['dropout'];
  if (s.dropout > 0 && train) {
    const seed = g.input('dropout_seed', 'int32', [1]);
    const layer8 = g.input('layer_salt', 'int32', [1]);
    const rowBase = s.rowBlock ? g.input('row_offset', 'int32', [1]) : undefined;
    dropout = (x, _layer, module) => {
      const m = g.constant(Int32Array.from([ALL_LINEAR.indexOf(module)]), 'int32', [1], 'module');
      return o.mul(x, dropoutMask(x, seed, o.add(layer8, m), s.dropout, rowBase));
    };
  }
  const lora: LoraGraph = { scale: s.scale, slot: (_l, module) => slots.get(slotKey(0, module)), dropout };
  return { w, lora, params, layout, entries };
}

/**
 * One layer's forward with its LoRA slice (dropout when `train`); with `grad`, also the backward from dh_out,
 * adding the gradient of earlier micro-batches when `accumulateIn`.
 */
export function buildLayerGraph(
  s: LayerwiseSpec,
  train: boolean,
  grad: false | { accumulateIn: boolean },
): Graph {
  const { config: c, B, T } = s;
  const D = c.hidden_size;
  const hd = c.head_dim;
  const kind = grad ? (grad.accumulateIn ? 'layer_grad_acc' : 'layer_grad') : train ? 'layer' : 'layer_eval';
  const g = new Graph(`${kind}_B${B}_T${T}`);
  const h = g.input('h', 'float32', [B * T, D]);
  const cos = g.input('cos', 'float32', [B, 1, T, hd]);
  const sin = g.input('sin', 'float32', [B, 1, T, hd]);
  const bias = g.input('bias', 'float32', [B, 1, 1, T, T]);
  const { w, lora, params, layout } = layerInputs(g, s, train);
  const out = decoderLayer(c, (name) => w.get(name), 0, h, { B, T }, { cos, sin, bias }, lora); // (B·T, D)
  if (!grad) {
    g.output(out, 'h_out');
    return g;
  }
  const dOut = g.input('dh_out', 'float32', [B * T, D]);
  const [dh, ...parts] = backward(out, [h, ...params], dOut);
  g.output(dh, 'dh'); // (B·T, D)
  let sum = o.concat(
    parts.map((p) => o.reshape(p, [-1])),
    0,
  ); // (P_layer)
  if (grad.accumulateIn) sum = o.add(sum, g.input('acc', 'float32', [layout.size]));
  g.output(sum, 'grad');
  return g;
}

/**
 * Final norm, LM head and cross-entropy over the N labelled rows of h_L; with `grad`, dh_L (B·T, D), plus
 * `dh_acc` when `accumulate` (the plan runs the labelled rows in groups of one chunk: onnxruntime runs the
 * chunks of one graph side by side, so a graph of many chunks holds many chunks' logits at once).
 */
export function buildHeadGraph(
  s: LayerwiseSpec,
  N: number,
  chunk: number,
  grad: boolean,
  accumulate = false,
): Graph {
  const { config: c, B, T } = s;
  const g = new Graph(`head_B${B}_T${T}_N${N}${grad ? '' : '_eval'}${accumulate ? '_acc' : ''}`);
  const h = g.input('h', 'float32', [B * T, c.hidden_size]);
  const labelPos = g.input('label_pos', 'int32', [N]);
  const labelIds = g.input('label_ids', 'int32', [N, 1]);
  const labelW = g.input('label_w', 'float32', [N]);
  const w = new Map<string, Value>();
  const head = c.tie_word_embeddings ? 'model.embed_tokens.weight' : 'lm_head.weight';
  for (const [name, shape] of s.weightShapes)
    if (name.startsWith(head) || name === 'model.norm.weight')
      w.set(name, weightInput(g, name, shape, storedDtype(name, s.storage)));
  const rows = finalNorm(c, w, o.gather(h, labelPos)); // (N, D)
  const { loss, dh } = lossHead(c, w, rows, labelIds, labelW, chunk, grad);
  g.output(loss, 'loss');
  if (grad) {
    const dh0 = backward(rows, [h], dh!)[0]; // (B·T, D)
    g.output(accumulate ? o.add(dh0, g.input('dh_acc', 'float32', dh0.shape)) : dh0, 'dh');
  }
  return g;
}

/** Global norm over every layer's gradient, clipping, AdamW per layer slice (inputs grad_i, params_i, m_i, v_i). */
export function buildOptimizerGraph(layers: number, size: number, clip: boolean): Graph {
  const g = new Graph(`optimizer_L${layers}_P${size}`);
  const grads = Array.from({ length: layers }, (_, i) => g.input(`grad_${i}`, 'float32', [size]));
  const norm = o.sqrt(o.sum(grads.map((gr) => sumSquares(gr))));
  g.output(norm, 'grad_norm');
  const opt = optimizerInputs(g, clip);
  for (let i = 0; i < layers; i++) {
    const p = g.input(`params_${i}`, 'float32', [size]);
    const m = g.input(`m_${i}`, 'float32', [size]);
    const v = g.input(`v_${i}`, 'float32', [size]);
    const next = adamw(opt, p, clipped(opt, grads[i], norm), m, v);
    g.output(next.p, `new.params_${i}`);
    g.output(next.m, `new.m_${i}`);
    g.output(next.v, `new.v_${i}`);
  }
  return g;
}
