// Generation with a static KV cache kept on the device: prompts are left-padded to a common length and
// prefilled in one run, then one token per run; logits come back for sampling on the host. Adapters are
// inputs (B pre-scaled by the LoRA scale), so switching adapters or running the base rebuilds nothing.
import { UserError } from '../errors';
import { toOnnx } from '../graph/onnx';
import type { DeviceModel } from '../model/device';
import { loraSpecs, slotKey, type LoraSpec, type LoraWeights } from '../model/lora';
import { NEG_INF } from '../model/llama';
import type { RtTensor, Session } from '../runtime/types';
import { bucket } from '../train/batches';
import { loraScale, type TargetModule } from '../train/config';
import { Rng } from '../train/rng';
import { buildInferGraph, loraInput } from './graph';
import { defaultSampling, sampleToken, type SamplingOptions } from './sampling';

export interface AdapterForInference {
  rank: number;
  alpha: number;
  rslora: boolean;
  targets: TargetModule[];
  weights: LoraWeights;
}

export interface GenerateOptions {
  maxNewTokens: number;
  sampling?: Partial<SamplingOptions>;
  seed?: number;
  /** Generation stops on any of these ids (the id itself is not returned). */
  stopIds: number[];
  /** Called for each new token of each row. Return false to stop that row. */
  onToken?: (row: number, id: number) => boolean | void;
  signal?: { aborted: boolean };
  /** Tests: receives the logits of each step, (rows, vocab). */
  onLogits?: (step: number, logits: Float32Array) => void;
}

export type FinishReason = 'stop' | 'length' | 'aborted';

export interface GenerateResult {
  ids: number[][];
  finish: FinishReason[];
}

interface AdapterOnDevice {
  key: string;
  specs: LoraSpec[];
  rank: number;
  tensors: Map<string, RtTensor>;
}

export interface GeneratorOptions {
  /** WebGPU: run the one-token decode graph with onnxruntime's graph capture (its shapes are static),
   *  replaying the recorded dispatches instead of encoding them again every token. Same tokens. */
  graphCapture?: boolean;
  /** Inference graphs from onnxruntime's fused ops (model/fused.ts; default true): fewer GPU dispatches per
   *  token, same tokens. false: the training model's ops (model/llama.ts). */
  fused?: boolean;
}

export class Generator {
  private sessions = new Map<string, Promise<Session>>();
  private adapter: AdapterOnDevice | null = null;

  constructor(
    readonly device: DeviceModel,
    private readonly options: GeneratorOptions = {},
  ) {}

  /** Uploads an adapter for the next generations; null = the base model. */
  async setAdapter(a: AdapterForInference | null): Promise<void> {
    const rt = this.device.rt;
    if (this.adapter) for (const t of this.adapter.tensors.values()) rt.dispose(t);
    this.adapter = null;
    if (!a) return;
    const specs = loraSpecs(this.device.config, a.targets);
    const scale = loraScale(a);
    const tensors = new Map<string, RtTensor>();
    for (const s of specs) {
      const k = slotKey(s.layer, s.module);
      const A = a.weights.A.get(k);
      const B = a.weights.B.get(k);
      if (!A || !B) throw new UserError(`the adapter has no weights for ${s.path}`);
      tensors.set(loraInput(s, 'A'), await rt.upload('float32', A, [s.in, a.rank]));
      tensors.set(
        loraInput(s, 'B'),
        await rt.upload(
          'float32',
          B.map((x) => x * scale),
          [a.rank, s.out],
        ),
      );
    }
    this.adapter = { key: `${a.rank}:${a.targets.join(',')}`, specs, rank: a.rank, tensors };
  }

  private session(B: number, L: number, S: number, R: number): Promise<Session> {
    const ad = this.adapter;
    const capture = !!this.options.graphCapture && L === 1 && this.device.rt.info.backend === 'webgpu';
    const key = `${B}/${L}/${S}/${R}/${ad?.key ?? 'base'}${capture ? '/captured' : ''}`;
    let s = this.sessions.get(key);
    if (!s) {
      const graph = buildInferGraph({
        config: this.device.config,
        weightShapes: this.device.shapes,
        B,
        L,
        S,
        R,
        lora: ad ? { specs: ad.specs, rank: ad.rank } : undefined,
        storage: this.device.storage,
        fused: this.fused,
      });
      const keep = graph.outputs.map((v) => v.name).filter((n) => n.startsWith('present.'));
      s = this.device.rt.createSession(toOnnx(graph), { keepOnDevice: keep, graphCapture: capture });
      this.sessions.set(key, s);
    }
    return s;
  }

  private get fused(): boolean {
    return this.options.fused ?? true;
  }

  async generate(prompts: number[][], opts: GenerateOptions): Promise<GenerateResult> {
    const rt = this.device.rt;
    const c = this.device.config;
    if (prompts.length === 0 || prompts.some((p) => p.length === 0)) throw new UserError('empty prompt');
    const sampling = { ...defaultSampling, ...opts.sampling };
    const rng = new Rng(opts.seed ?? 0);
    const B = prompts.length;
    const L = bucket(Math.max(...prompts.map((p) => p.length)), 16, 1 << 30);
    const S = bucket(L + opts.maxNewTokens, 64, 1 << 30);
    // rows are left-padded to L, but each row's positions start at 0: the padding takes no context
    const longest = Math.max(...prompts.map((p) => p.length));
    if (longest + opts.maxNewTokens > c.max_position_embeddings) {
      throw new UserError(
        `prompt + new tokens (${longest + opts.maxNewTokens}) exceed the model's context of ${c.max_position_embeddings}`,
      );
    }
    const KV = c.num_key_value_heads;
    const hd = c.head_dim;
    const pad = prompts.map((p) => L - p.length);
    const rope = await this.device.ropeTables(S);
    const zeros = new Float32Array(B * KV * S * hd);
    let past: Record<string, RtTensor> = {};
    for (let i = 0; i < c.num_hidden_layers; i++) {
      past[`past.k.${i}`] = await rt.upload('float32', zeros, this.fused ? [B, KV, hd, S] : [B, KV, S, hd]);
      past[`past.v.${i}`] = await rt.upload('float32', zeros, [B, KV, S, hd]);
    }
    const out: number[][] = prompts.map(() => []);
    const finish: (FinishReason | null)[] = prompts.map(() => null);
    const seen = prompts.map((p) => [...p]);
    const stop = new Set(opts.stopIds);
    const V = c.vocab_size;

    const run = async (
      n: number,
      ids: Int32Array,
      positions: Int32Array,
      bias: Float32Array,
      write: Float32Array,
      rows: Int32Array,
    ) => {
      const feeds: Record<string, RtTensor> = {
        input_ids: rt.tensor('int32', ids, [B, n]),
        position_ids: this.fused
          ? rt.tensor(
              'int64',
              BigInt64Array.from(positions, (p) => BigInt(p)),
              [B, n],
            )
          : rt.tensor('int32', positions, [B, n]),
        rope_cos: rope.cos,
        rope_sin: rope.sin,
        attn_bias: rt.tensor('float32', bias, [B, 1, 1, n, S]),
        cache_write: rt.tensor('float32', write, [B, 1, S, n]),
        rows: rt.tensor('int32', rows, [B]),
        ...past,
      };
      this.device.feedWeights(feeds);
      if (this.adapter) for (const [k, t] of this.adapter.tensors) feeds[k] = t;
      const res = await (await this.session(B, n, S, B)).run(feeds);
      for (const t of Object.values(past)) rt.dispose(t);
      past = {};
      for (let i = 0; i < c.num_hidden_layers; i++) {
        past[`past.k.${i}`] = res[`present.k.${i}`];
        past[`past.v.${i}`] = res[`present.v.${i}`];
      }
      return (await rt.read(res.logits)) as Float32Array;
    };

    try {
      // prefill: slot t holds prompt token t − pad (padding first), query t sees slots pad..t
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
      let logits = await run(
        L,
        ids,
        positions,
        bias,
        write,
        Int32Array.from({ length: B }, (_, b) => b * L + L - 1),
      );
      for (let step = 0; step < opts.maxNewTokens; step++) {
        opts.onLogits?.(step, logits);
        const next = new Int32Array(B);
        for (let b = 0; b < B; b++) {
          if (finish[b]) continue;
          const id = sampleToken(logits.subarray(b * V, (b + 1) * V), seen[b], sampling, rng);
          next[b] = id;
          if (stop.has(id)) {
            finish[b] = 'stop';
            continue;
          }
          out[b].push(id);
          seen[b].push(id);
          if (opts.onToken?.(b, id) === false) finish[b] = 'stop';
        }
        if (opts.signal?.aborted) {
          finish.forEach((f, b) => (finish[b] = f ?? 'aborted'));
          break;
        }
        if (finish.every((f) => f) || step === opts.maxNewTokens - 1) break;
        // decode one token at slot L + step
        const slot = L + step;
        const pos = Int32Array.from({ length: B }, (_, b) => slot - pad[b]);
        const db = new Float32Array(B * S).fill(NEG_INF);
        const dw = new Float32Array(B * S);
        for (let b = 0; b < B; b++) {
          for (let s = pad[b]; s <= slot; s++) db[b * S + s] = 0;
          dw[b * S + slot] = 1;
        }
        logits = await run(
          1,
          next,
          pos,
          db,
          dw,
          Int32Array.from({ length: B }, (_, b) => b),
        );
      }
    } finally {
      for (const t of Object.values(past)) rt.dispose(t);
    }
    return { ids: out, finish: finish.map((f) => f ?? 'length') };
  }

  async dispose(): Promise<void> {
    await this.setAdapter(null);
    for (const s of this.sessions.values()) await (await s).release();
    this.sessions.clear();
  }
}
