// The KV cache of a generation on the device and the host inputs of each run, for the two kinds of inference
// graph (generate/graph.ts): fused graphs take right-padded rows and GroupQueryAttention's seqlens_k, and
// update a cache bound as both input and output in place; the others take left-padded rows, an additive mask
// and a write matrix, and return a rewritten cache that replaces the old one each run.
import { Graph } from '../graph/ir';
import { toOnnx } from '../graph/onnx';
import * as o from '../graph/ops';
import type { ModelConfig } from '../model/config';
import { NEG_INF } from '../model/llama';
import type { RtTensor, Runtime } from '../runtime/types';

/**
 * `count` zero tensors of `dims` on the device. For a captured graph on WebGPU onnxruntime allocates them
 * (outputs of a tiny graph): onnxruntime-web 1.30 keeps the buffers it allocated registered for good, while a
 * buffer of ours is unregistered after every run, and a captured graph (GroupQueryAttention needs its cache
 * bound as input and output) later looks its output up by the first run's released handle: a TypeError, or
 * another buffer, depending on where the allocator put the handles. Otherwise they are uploaded.
 */
async function zeros(rt: Runtime, dims: number[], count: number, captured: boolean): Promise<RtTensor[]> {
  const n = dims.reduce((a, b) => a * b, 1);
  const out: RtTensor[] = [];
  if (!captured || rt.info.backend !== 'webgpu') {
    // an array each: on the CPU upload() keeps the array itself, which the run then writes into
    for (let i = 0; i < count; i++) out.push(await rt.upload('float32', new Float32Array(n), dims));
    return out;
  }
  const g = new Graph('zeros');
  g.output(o.expand(o.mul(g.input('x', 'float32', [1]), 0), dims), 'z');
  const session = await rt.createSession(toOnnx(g), { keepOnDevice: ['z'] });
  const x = rt.tensor('float32', new Float32Array(1), [1]);
  for (let i = 0; i < count; i++) out.push((await session.run({ x })).z);
  await session.release(); // closes once the last of its outputs is disposed
  return out;
}

/** Per-layer caches (B, KV, S, hd) named as the graphs' inputs (past.*) and outputs (present.*). */
export class KvCache {
  private constructor(
    private readonly rt: Runtime,
    readonly key: string,
    /** updated in place: the same tensors are inputs and outputs of every run */ readonly inPlace: boolean,
    private tensors: RtTensor[],
  ) {}

  /** `captured`: for graph-captured runs (WebGPU: buffers onnxruntime allocated, see `zeros`). */
  static async create(
    rt: Runtime,
    c: ModelConfig,
    B: number,
    S: number,
    inPlace: boolean,
    captured = false,
  ): Promise<KvCache> {
    const dims = [B, c.num_key_value_heads, S, c.head_dim];
    // only a cache bound as an output (in place) needs buffers onnxruntime allocated
    const tensors = await zeros(rt, dims, 2 * c.num_hidden_layers, captured && inPlace);
    return new KvCache(rt, `${B}/${S}`, inPlace, tensors);
  }

  private named(prefix: string): Record<string, RtTensor> {
    const L = this.tensors.length / 2;
    const out: Record<string, RtTensor> = {};
    for (let i = 0; i < L; i++) {
      out[`${prefix}.k.${i}`] = this.tensors[i];
      out[`${prefix}.v.${i}`] = this.tensors[L + i];
    }
    return out;
  }

  /** The caches as the next run's inputs. */
  get past(): Record<string, RtTensor> {
    return this.named('past');
  }

  /** In place: the outputs the run writes into (the very input tensors); otherwise none. */
  get into(): Record<string, RtTensor> | undefined {
    return this.inPlace ? this.named('present') : undefined;
  }

  /** After a run: a rewritten cache replaces the old one (in place there is nothing to do). */
  update(res: Record<string, RtTensor>) {
    if (this.inPlace) return;
    const L = this.tensors.length / 2;
    const next = this.tensors.map((_, j) => res[j < L ? `present.k.${j}` : `present.v.${j - L}`]);
    this.dispose();
    this.tensors = next;
  }

  dispose() {
    for (const t of this.tensors) this.rt.dispose(t);
    this.tensors = [];
  }
}

/** Host inputs of one run (besides rope tables, weights, adapter and cache) and the rows whose logits return. */
export interface RunInputs {
  /** new tokens per row */ n: number;
  feeds: Record<string, RtTensor>;
  rows: Int32Array;
}

/**
 * Right-padded rows for GroupQueryAttention: row b's token at position p in slot p; seqlens_k[b] = its filled
 * slots − 1 after the run; total_sequence_length = the prompt bucket L in the prefill (a first prompt), the
 * longest row's filled slots in decode (omitted where the graph has it as a constant).
 */
export function gqaInputs(rt: Runtime, prompts: number[][], L: number, withTotal: boolean) {
  const B = prompts.length;
  const lens = prompts.map((p) => p.length);
  const longest = Math.max(...lens);
  const total = (n: number): Record<string, RtTensor> =>
    withTotal ? { total_sequence_length: rt.tensor('int32', Int32Array.of(n), []) } : {};
  return {
    prefill(): RunInputs {
      const ids = new Int32Array(B * L);
      prompts.forEach((p, b) => ids.set(p, b * L));
      return {
        n: L,
        feeds: {
          input_ids: rt.tensor('int32', ids, [B, L]),
          seqlens_k: rt.tensor(
            'int32',
            Int32Array.from(lens, (n) => n - 1),
            [B],
          ),
          ...total(L),
        },
        rows: Int32Array.from(lens, (n, b) => b * L + n - 1),
      };
    },
    /** decode step `step` (0-based): row b's new token goes to slot lens[b] + step */
    decode(step: number, next: Int32Array): RunInputs {
      return {
        n: 1,
        feeds: {
          input_ids: rt.tensor('int32', next, [B, 1]),
          seqlens_k: rt.tensor(
            'int32',
            Int32Array.from(lens, (n) => n + step),
            [B],
          ),
          ...total(longest + step + 1),
        },
        rows: Int32Array.from({ length: B }, (_, b) => b),
      };
    },
  };
}

/**
 * Left-padded rows for the additive-mask graphs: rows padded on the left to L, each row's positions from 0
 * (the padding takes no context); slot t holds prompt token t − pad, decode step k writes slot L + k.
 */
export function maskedInputs(rt: Runtime, prompts: number[][], L: number, S: number) {
  const B = prompts.length;
  const pad = prompts.map((p) => L - p.length);
  const inputs = (n: number, ids: Int32Array, pos: Int32Array, bias: Float32Array, write: Float32Array) => ({
    input_ids: rt.tensor('int32', ids, [B, n]),
    position_ids: rt.tensor('int32', pos, [B, n]),
    attn_bias: rt.tensor('float32', bias, [B, 1, 1, n, S]),
    cache_write: rt.tensor('float32', write, [B, 1, S, n]),
  });
  return {
    prefill(): RunInputs {
      // query t sees slots pad..t
      const ids = new Int32Array(B * L);
      const positions = new Int32Array(B * L);
      const bias = new Float32Array(B * L * S).fill(NEG_INF);
      const write = new Float32Array(B * S * L);
      for (let b = 0; b < B; b++) {
        for (let t = 0; t < L; t++) {
          if (t >= pad[b]) {
            ids[b * L + t] = prompts[b][t - pad[b]];
            positions[b * L + t] = t - pad[b];
          }
          for (let s = pad[b]; s <= t; s++) bias[(b * L + t) * S + s] = 0;
          if (t < pad[b]) bias[(b * L + t) * S + t] = 0; // padding queries see themselves (no NaN)
          write[(b * S + t) * L + t] = 1;
        }
      }
      const rows = Int32Array.from({ length: B }, (_, b) => b * L + L - 1);
      return { n: L, feeds: inputs(L, ids, positions, bias, write), rows };
    },
    decode(step: number, next: Int32Array): RunInputs {
      const slot = L + step;
      const pos = Int32Array.from({ length: B }, (_, b) => slot - pad[b]);
      const bias = new Float32Array(B * S).fill(NEG_INF);
      const write = new Float32Array(B * S);
      for (let b = 0; b < B; b++) {
        for (let s = pad[b]; s <= slot; s++) bias[b * S + s] = 0;
        write[b * S + slot] = 1;
      }
      return {
        n: 1,
        feeds: inputs(1, next, pos, bias, write),
        rows: Int32Array.from({ length: B }, (_, b) => b),
      };
    },
  };
}
