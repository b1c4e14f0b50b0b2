// Generation with a static KV cache kept on the device: prompts are padded to a common length and prefilled
// in one run, then one token per run; logits come back for sampling on the host. Adapters are inputs (B
// pre-scaled by the LoRA scale), so switching adapters or running the base rebuilds nothing. The fused graphs'
// cache is updated in place and kept between generations (cache.ts).
import { UserError } from '../errors';
import { toOnnx } from '../graph/onnx';
import type { DeviceModel } from '../model/device';
import { loraSpecs, slotKey, type LoraSpec, type LoraWeights } from '../model/lora';
import type { RtTensor, Session } from '../runtime/types';
import { gqaInputs, KvCache, maskedInputs, type RunInputs } from './cache';
import { bucket } from '../train/batches';
import { loraScale, type TargetModule } from '../train/config';
import { Rng } from '../train/rng';
import { fusedSupported } from '../model/fused';
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
   *  replaying the recorded dispatches instead of encoding them again every token. Same tokens. Weights, the
   *  adapter and (fused) the cache are bound without copies; a new adapter or cache shape re-captures. */
  graphCapture?: boolean;
  /** Inference graphs from onnxruntime's fused ops (model/fused.ts; default true): fewer GPU dispatches per
   *  token, same tokens. false: the training model's ops (model/llama.ts). */
  fused?: boolean;
}

export class Generator {
  private sessions = new Map<string, Promise<Session>>();
  private adapter: AdapterOnDevice | null = null;
  /** fused graphs on cpu/webgpu: the cache updated in place, kept for the next generation of its shape */
  private kv: KvCache | null = null;
  /** a generation is using `kv` */
  private kvBusy = false;

  constructor(
    readonly device: DeviceModel,
    private readonly options: GeneratorOptions = {},
  ) {}

  /** Uploads an adapter for the next generations; null = the base model. */
  async setAdapter(a: AdapterForInference | null): Promise<void> {
    const rt = this.device.rt;
    if (this.adapter) for (const t of this.adapter.tensors.values()) rt.dispose(t);
    this.adapter = null;
    await this.dropCaptured(); // they were captured with the old adapter's buffers
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
    const capture = this.captured && L === 1;
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
        total: capture && this.fused ? S : undefined, // a captured graph replays one total length
      });
      const present = graph.outputs.map((v) => v.name).filter((n) => n.startsWith('present.'));
      // unfused: the rewritten cache comes back as new tensors each run, copied into the captured slots
      const captureSlots = this.fused ? [] : present.map((n) => n.replace('present.', 'past.'));
      s = this.device.rt.createSession(toOnnx(graph), {
        keepOnDevice: present,
        graphCapture: capture,
        captureSlots,
      });
      this.sessions.set(key, s);
    }
    return s;
  }

  private async dropCaptured() {
    for (const [key, s] of [...this.sessions]) {
      if (!key.endsWith('/captured')) continue;
      this.sessions.delete(key);
      await (await s).release();
    }
  }

  /** decode runs graph-captured (WebGPU) */
  private get captured(): boolean {
    return !!this.options.graphCapture && this.device.rt.info.backend === 'webgpu';
  }

  private get fused(): boolean {
    return (this.options.fused ?? true) && fusedSupported(this.device.config);
  }

  /** The cache for B rows of S slots and whether it is the kept one (in place; claimed until release()), or a
   *  fresh one the caller disposes: unfused graphs, wasm, or while another generation holds the kept one. */
  private async cache(B: number, S: number): Promise<{ kv: KvCache; kept: boolean }> {
    const rt = this.device.rt;
    const inPlace = this.fused && rt.info.backend !== 'wasm'; // onnxruntime-web's wasm copies outputs
    if (!inPlace || this.kvBusy)
      return { kv: await KvCache.create(rt, this.device.config, B, S, inPlace, this.captured), kept: false };
    this.kvBusy = true; // claimed before any await: a concurrent generation gets a fresh cache
    try {
      if (this.kv?.key !== `${B}/${S}`) {
        this.kv?.dispose();
        this.kv = null;
        await this.dropCaptured(); // captured with the old cache's buffers
        this.kv = await KvCache.create(rt, this.device.config, B, S, true, this.captured);
      }
      return { kv: this.kv, kept: true };
    } catch (e) {
      this.kvBusy = false;
      throw e;
    }
  }

  async generate(prompts: number[][], opts: GenerateOptions): Promise<GenerateResult> {
    const rt = this.device.rt;
    const c = this.device.config;
    if (prompts.length === 0 || prompts.some((p) => p.length === 0)) throw new UserError('empty prompt');
    const sampling = { ...defaultSampling, ...opts.sampling };
    const rng = new Rng(opts.seed ?? 0);
    const B = prompts.length;
    const longest = Math.max(...prompts.map((p) => p.length));
    const L = bucket(longest, 16, 1 << 30);
    const S = bucket(L + opts.maxNewTokens, 64, 1 << 30);
    if (longest + opts.maxNewTokens > c.max_position_embeddings) {
      throw new UserError(
        `prompt + new tokens (${longest + opts.maxNewTokens}) exceed the model's context of ${c.max_position_embeddings}`,
      );
    }
    const rope = await this.device.ropeTables(S);
    const { kv, kept } = await this.cache(B, S);
    const captured = this.captured;
    const inputs = this.fused ? gqaInputs(rt, prompts, L, !captured) : maskedInputs(rt, prompts, L, S);
    const prefillInputs = this.fused && captured ? gqaInputs(rt, prompts, L, true) : inputs;
    const out: number[][] = prompts.map(() => []);
    const finish: (FinishReason | null)[] = prompts.map(() => null);
    const seen = prompts.map((p) => [...p]);
    const stop = new Set(opts.stopIds);
    const V = c.vocab_size;

    const run = async ({ n, feeds: host, rows }: RunInputs) => {
      const session = await this.session(B, n, S, B);
      const feeds: Record<string, RtTensor> = {
        ...host,
        rope_cos: rope.cos,
        rope_sin: rope.sin,
        rows: rt.tensor('int32', rows, [B]),
        ...kv.past,
      };
      this.device.feedWeights(feeds);
      if (this.adapter) for (const [k, t] of this.adapter.tensors) feeds[k] = t;
      const res = await session.run(feeds, kv.into);
      kv.update(res);
      return (await rt.read(res.logits)) as Float32Array;
    };

    try {
      let logits = await run(prefillInputs.prefill());
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
        logits = await run(inputs.decode(step, next));
      }
    } finally {
      if (kept) this.kvBusy = false;
      else kv.dispose();
    }
    return { ids: out, finish: finish.map((f) => f ?? 'length') };
  }

  async dispose(): Promise<void> {
    await this.setAdapter(null);
    this.kv?.dispose();
    this.kv = null;
    for (const s of this.sessions.values()) await (await s).release();
    this.sessions.clear();
  }
}
