// The memory planner (DESIGN §8): predicts the peak memory of each way to run a training step and picks the
// fastest that fits the budget — the whole-model graph, else the layer-wise plan; base weights stored float16
// where the checkpoint is 16-bit anyway (exact) or where nothing else fits; smaller cross-entropy chunks —
// or says plainly what cannot fit and what to lower. The CLI, the worker and the Train tab all use it.
import { UserError } from '../errors';
import type { ModelConfig } from '../model/config';
import { loraSpecs } from '../model/lora';
import type { WeightStorage } from '../model/weight-inputs';
import { expectedWeights } from '../model/weights';
import { resolveTargets, type TrainConfig } from './config';
import { ceChunkRows } from './estimate';
import type { PlanKind } from './plan';

const MiB = 2 ** 20;

export interface PlanRequest {
  config: ModelConfig;
  train: Pick<TrainConfig, 'batchSize' | 'maxLen' | 'rank' | 'targets' | 'packing'>;
  /** tokens per sequence of the longest micro-batch (a power-of-two bucket ≤ maxLen); default maxLen */
  seqLen?: number;
  backend: 'cpu' | 'wasm' | 'webgpu';
  /** the device can hold float16 weights (CPU/WASM always; WebGPU with shader-f16) */
  f16: boolean;
  /** the checkpoint stores 16-bit weights (BF16/F16): float16 storage loses nothing that matters */
  source16: boolean;
  /** bytes the whole process (or the GPU) may use, weights included */
  budget: number;
  /** largest single buffer the device binds (WebGPU) */
  maxBinding?: number;
  force?: PlanKind;
  /** evaluation only: forward passes, nothing kept for a backward pass, no optimizer state */
  evaluate?: boolean;
  /** the weights are already on the device in this dtype (the studio uploads them when the model loads) */
  fixedStorage?: WeightStorage;
}

export interface Breakdown {
  /** process baseline: runtime, code, tokenizer (CPU/WASM only) */ overhead: number;
  /** base weights as stored */ weights: number;
  /** LoRA parameters, AdamW moments, gradients and the optimizer's outputs */ lora: number;
  /** activations alive at the peak: every layer's (whole) or residual streams + one layer's (layer-wise) */
  activations: number;
  /** the largest transient: one layer's recomputation and backward, or the head's logits chunk */
  head: number;
}

export interface MemoryPlan {
  plan: PlanKind;
  storage: WeightStorage;
  ceChunk: number;
  /** layer-wise: sequences of a micro-batch run through the layers at a time */
  rows: number;
  /** layer-wise: attention in blocks of this many queries (absent: unblocked; layerwise-blocked.ts) */
  queryBlock?: number;
  /** CPU: training sessions keep their memory between runs (PlanSettings.reuseMemory) */
  reuseMemory: boolean;
  /** predicted peak, bytes */ peak: number;
  breakdown: Breakdown;
  budget: number;
  /** what was decided and why, one sentence each */
  notes: string[];
}

/** (B·H·Q·T)-sized tensors alive at once in one query block's attention backward */
const SCORE_TENSORS = 5;

/** Query block sizes tried, largest (fastest) first, when no unblocked layer-wise plan fits. */
const QUERY_BLOCKS = [1024, 512, 256, 128, 64];

/** Process baseline of the CLI on the CPU backend (node, tsx, onnxruntime), measured on Linux x64. */
export const CPU_OVERHEAD = 330 * MiB;

/** Parameters of the decoder layers (storable as float16) and of the rest (vocabulary matrices, final norm). */
function counts(c: ModelConfig) {
  let layers = 0;
  let rest = 0;
  for (const [name, s] of expectedWeights(c)) {
    const n = s.reduce((a, b) => a * b, 1);
    if (name.startsWith('model.layers.')) layers += n;
    else rest += n;
  }
  return { layers, rest };
}

/**
 * float32 activations one layer's forward keeps for its backward, per token of the micro-batch; attention
 * scores and probabilities of every query (unblocked) or none (query-blocked: added per block).
 */
function layerFloatsPerToken(c: ModelConfig, T: number, blocked = false) {
  const D = c.hidden_size;
  const I = c.intermediate_size;
  const q = c.num_attention_heads * c.head_dim;
  const kv = c.num_key_value_heads * c.head_dim;
  // norms, q/k/v (+ rotated copies), attention output, MLP gate/up/act/product, residuals; scores and probs
  return 6 * D + 2 * (q + 2 * kv) + q + 5 * I + (blocked ? 0 : 3 * c.num_attention_heads * T);
}

/** q, k, v, attention output and their gradients per token (query-blocked layer) */
const qkvFloats = (c: ModelConfig) =>
  2 * (2 * c.num_attention_heads + 2 * c.num_key_value_heads) * c.head_dim;

/**
 * Predicted peak of one plan. Layer-wise: the head and one layer's recomputation never run at once, so the
 * transient part is the larger of the two. Calibrated on the CPU backend (bench:memory: Qwen2.5-0.5B shapes
 * at 1 × 256 and 4 × 512): one layer's backward holds ~2.5× the activations its forward keeps.
 */
export function predict(
  r: PlanRequest,
  plan: PlanKind,
  storage: WeightStorage,
  ceChunk: number,
  rows = r.train.batchSize,
  queryBlock?: number,
  reuseMemory = plan === 'whole',
): MemoryPlan {
  const c = r.config;
  const T = r.seqLen ?? r.train.maxLen;
  // the layer-wise plan runs `rows` sequences of the micro-batch at a time (the whole plan all of them)
  const M = (plan === 'whole' ? r.train.batchSize : Math.min(rows, r.train.batchSize)) * T;
  const D = c.hidden_size;
  const L = c.num_hidden_layers;
  const { layers, rest } = counts(c);
  const specs = loraSpecs(c, resolveTargets(r.train.targets));
  const P = specs.reduce((a, s) => a + r.train.rank * (s.in + s.out), 0);
  const Q = plan === 'layerwise' && queryBlock && queryBlock < T ? queryBlock : undefined;
  const perLayer = M * layerFloatsPerToken(c, T, Q !== undefined) * 4;
  // one query block's backward: scores, probabilities and their gradients (B·H·Q·T each)
  const scoreBlock = Q ? SCORE_TENSORS * (M / T) * c.num_attention_heads * Q * T * 4 : 0;
  const chunk = Math.min(ceChunk, M);
  // logits of one chunk (z and its softmax, and room for one more while ops hand over) and the gathered rows;
  // a float16 head is cast once per run
  const head = (3 * chunk * c.vocab_size + 3 * M * D) * 4 + (storage === 'float16-all' ? rest * 4 : 0);
  const half = storage !== 'float32';
  const reuse = reuseMemory && r.backend === 'cpu';
  let activations: number;
  let transient: number;
  if (r.evaluate) {
    // one layer's forward at a time beside the residual stream, then the head
    activations = perLayer + 2 * M * D * 4;
    transient = head;
  } else if (plan === 'whole') {
    activations = L * perLayer + 2 * M * D * 4;
    transient = head;
  } else {
    activations = (L + 3) * M * D * 4; // residual streams h₀…h_L and dh twice
    // query-blocked: the post-attention backward (MLP, per token) and one query block's attention backward
    // run one after the other, beside the layer's q/k/v, attention output and their gradients
    const layer = Q
      ? Math.max(M * (8 * c.intermediate_size + 10 * D) * 4, scoreBlock) + M * qkvFloats(c) * 4
      : 2.5 * perLayer;
    const cast = half ? (layers / L) * 4 : 0;
    // sessions that keep their memory each hold their own peak: the layer's forward (about its activations),
    // its backward and the head's all at once instead of one after the other
    transient = reuse ? perLayer + layer + cast + head : Math.max(layer + cast, head);
  }
  const breakdown: Breakdown = {
    overhead: r.backend === 'webgpu' ? 0 : CPU_OVERHEAD,
    // float16 layer weights; the whole-model graph also holds every layer's float32 cast at once
    weights: layers * (half ? (plan === 'whole' ? 6 : 2) : 4) + rest * (storage === 'float16-all' ? 2 : 4),
    lora: (r.evaluate ? 1 : 7) * P * 4,
    activations,
    head: transient,
  };
  const peak = Object.values(breakdown).reduce((a, b) => a + b, 0);
  return {
    plan,
    storage,
    ceChunk: chunk,
    rows: M / T,
    queryBlock: Q,
    reuseMemory: reuse,
    peak,
    breakdown,
    budget: r.budget,
    notes: [],
  };
}

const mib = (b: number) => `${Math.round(b / MiB)} MiB`;

/** Whether keeping the sessions' memory is a choice the budget decides (the CPU layer-wise plan's). */
const choosesReuse = (r: PlanRequest, plan: PlanKind) => plan === 'layerwise' && r.backend === 'cpu';

/**
 * The candidates, fastest first: the whole-model graph (float32 weights: it reads every layer's weights in its
 * backward too, so cast copies would all be alive at once), then layer-wise — float16 weights first when the
 * checkpoint is 16-bit (the same numbers in less memory), float32 first when rounding would change them.
 */
function candidates(r: PlanRequest): [PlanKind, WeightStorage][] {
  if (r.fixedStorage) {
    const fixed: [PlanKind, WeightStorage][] = [
      ['whole', r.fixedStorage],
      ['layerwise', r.fixedStorage],
    ];
    return r.force ? fixed.filter(([p]) => p === r.force) : fixed;
  }
  const layerwise: [PlanKind, WeightStorage][] = !r.f16
    ? [['layerwise', 'float32']]
    : r.source16
      ? [['layerwise', 'float16']]
      : [
          ['layerwise', 'float32'],
          ['layerwise', 'float16'],
        ];
  // 'float16-all' is not a candidate: measured on Qwen2.5-0.5B 4 × 512 its peak (3305 MiB) was above the
  // layer-weights-only storage's (3076 MiB) — the head's float32 cast outweighs the vocabulary's savings
  const all: [PlanKind, WeightStorage][] = [['whole', 'float32'], ...layerwise];
  return r.force ? all.filter(([p]) => p === r.force) : all;
}

/** The fastest plan whose predicted peak fits the budget, or a UserError saying what to lower. */
export function planMemory(r: PlanRequest): MemoryPlan {
  const base = ceChunkRows(r.config.vocab_size);
  const chunks = [base, Math.max(8, base >> 2), 8].filter((x, i, a) => a.indexOf(x) === i);
  const T = r.seqLen ?? r.train.maxLen;
  const scores = r.train.batchSize * r.config.num_attention_heads * T * T * 4;
  if (r.maxBinding && scores > r.maxBinding)
    throw new UserError(
      `attention scores of ${r.train.batchSize} × ${T} tokens need ${mib(scores)} in one buffer but this GPU binds at most ${mib(r.maxBinding)}; lower the batch size or max length`,
    );
  // layer-wise: the whole micro-batch through each layer first, then halves of it down to one sequence
  const B = r.train.batchSize;
  const rowOptions = [B];
  for (let k = 1 << Math.floor(Math.log2(Math.max(1, B - 1))); k >= 1 && B > 1; k >>= 1) rowOptions.push(k);
  let best: MemoryPlan | null = null;
  // unblocked plans first (faster), then attention in query blocks (only for rows longer than a block)
  const blockOptions = [undefined, ...QUERY_BLOCKS.filter((q) => q < T)];
  const options: [PlanKind, WeightStorage, number | undefined][] = [];
  for (const q of blockOptions)
    for (const [plan, storage] of candidates(r))
      if (plan === 'layerwise' || q === undefined) options.push([plan, storage, q]);
  for (const [plan, storage, queryBlock] of options)
    for (const rows of plan === 'whole' ? [B] : rowOptions)
      for (const chunk of chunks)
        // CPU layer-wise: sessions keep their memory where it fits, else hand it back (predict's default otherwise)
        for (const reuse of choosesReuse(r, plan) ? [true, false] : [undefined]) {
          const p = predict(r, plan, storage, chunk, rows, queryBlock, reuse);
          if (!best || p.peak < best.peak) best = p;
          if (p.peak > r.budget) continue;
          if (storage !== 'float32')
            p.notes.push(
              (storage === 'float16-all' ? 'all base weights' : 'layer weights') +
                (r.source16
                  ? ' kept as float16 (the checkpoint is 16-bit)'
                  : ' stored as float16 to fit the budget (rounded from float32)'),
            );
          if (plan === 'layerwise' && !r.force)
            p.notes.push(
              'layer-wise plan: the whole-model step would need ' +
                mib(predict(r, 'whole', 'float32', base).peak),
            );
          if (chunk !== base) p.notes.push(`cross-entropy in chunks of ${chunk} rows`);
          if (rows < B) p.notes.push(`${rows} of the ${B} sequences through the layers at a time`);
          if (queryBlock) p.notes.push(`attention in blocks of ${queryBlock} queries`);
          if (reuse === false)
            p.notes.push(
              'memory handed back after each run (slower; keeping it would need ' +
                mib(predict(r, plan, storage, chunk, rows, queryBlock, true).peak) +
                ')',
            );
          return p;
        }
  const b = best!;
  const { weights, overhead } = b.breakdown;
  const lower =
    overhead >= r.budget
      ? `the runtime itself takes about ${mib(overhead)}: raise the budget`
      : weights + overhead > r.budget
        ? 'the model alone does not fit: choose a smaller model'
        : 'lower the batch size or the max length';
  throw new UserError(
    `a training step needs about ${mib(b.peak)} (weights ${mib(b.breakdown.weights)}, activations ${mib(b.breakdown.activations)}) with the ${b.plan === 'layerwise' ? 'layer-wise' : 'whole-model'} plan, over the memory budget of ${mib(r.budget)}; ${lower}`,
  );
}

/** The default budget where no memory size can be read: a laptop GPU's 4 GiB, or the WASM heap's 4 GiB. */
export const STUDIO_DEFAULT_BUDGET = 4096 * MiB;

/**
 * The studio's plan (worker and Train tab alike): the longest bucket of the rows, the Train setting's budget
 * (MiB; 0 = the default) and the storage the loaded model already has on the device.
 */
export function planStudioRun(
  config: ModelConfig,
  train: Pick<TrainConfig, 'batchSize' | 'maxLen' | 'rank' | 'targets' | 'packing' | 'memoryBudget' | 'plan'>,
  device: { backend: 'cpu' | 'wasm' | 'webgpu'; maxStorageBufferBindingSize?: number },
  storage: WeightStorage,
  longestRow: number,
): MemoryPlan {
  const seqLen = train.packing
    ? train.maxLen
    : Math.min(
        Math.max(16, train.maxLen),
        2 ** Math.ceil(Math.log2(Math.max(16, Math.min(longestRow, train.maxLen)))),
      );
  return planMemory({
    config,
    train,
    seqLen,
    backend: device.backend,
    f16: storage === 'float16',
    source16: storage === 'float16',
    fixedStorage: storage,
    budget: train.memoryBudget > 0 ? train.memoryBudget * MiB : STUDIO_DEFAULT_BUDGET,
    maxBinding: device.maxStorageBufferBindingSize,
    force: train.plan === 'auto' ? undefined : train.plan,
  });
}
