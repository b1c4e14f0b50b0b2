// How a training step is executed: the interface the trainer drives, the feeds every plan shares, and the
// whole-model plan (one graph per shape: forward, loss, backward and AdamW at once — fastest where it fits).
// The layer-wise plan (DESIGN §8) is in layerwise-plan.ts.
import { toOnnx } from '../graph/onnx';
import type { DeviceModel } from '../model/device';
import { flatLayout, type LoraSpec } from '../model/lora';
import type { RtTensor, Runtime, Session } from '../runtime/types';
import { labelWeights, type MicroBatch } from './batches';
import { buildStepGraph, type StepMode } from './step';

export type PlanKind = 'whole' | 'layerwise';

/** Per-step scalars of the optimizer (host-computed from the schedule). */
export interface OptimizerScalars {
  /** 1 − lr·wd */ decay: number;
  /** lr / (1 − β1^t) */ stepSize: number;
  /** √(1 − β2^t) */ bc2Sqrt: number;
  /** 0 = no clipping */ maxNorm: number;
}

export interface PlanSettings {
  rt: Runtime;
  device: DeviceModel;
  specs: LoraSpec[];
  rank: number;
  scale: number;
  dropout: number;
  /** NEFTune alpha (0 = off) */
  neftuneAlpha: number;
  /** rows of logits per cross-entropy chunk */
  ceChunk: number;
  /**
   * layer-wise plan: sequences of a micro-batch run through the layers at a time (default all); fewer rows
   * bound one layer's recomputation (its backward holds ~2.5× its activations) at the same gradient
   */
  rowsPerRun?: number;
  /**
   * layer-wise plan: attention in blocks of this many queries (layerwise-blocked.ts; absent: unblocked), so
   * one layer holds one block's scores (B·H·Q·T) instead of all of them (B·H·T·T)
   */
  queryBlock?: number;
  /**
   * CPU: sessions run during training keep their memory between runs (SessionOptions.reuseMemory): each then
   * holds its own peak, so the layer-wise plan's peaks add up (the planner's choice). Default: the whole plan
   * yes (one session; its peak is no higher), the layer-wise plan no.
   */
  reuseMemory?: boolean;
}

export type StateName = 'params' | 'm' | 'v';

/** A step whose loss or gradient norm is NaN or ±Inf must not be applied: its new state is thrown away. */
export const finiteStep = (loss: number, gradNorm: number) =>
  Number.isFinite(loss) && Number.isFinite(gradNorm);

/** A way of running training steps; owns the LoRA parameters and AdamW moments on the device. */
export interface StepPlan {
  readonly kind: PlanKind;
  /**
   * One optimizer step over micro-batches whose label weights are `scale`; dropout seed per micro-batch. The
   * new state replaces the kept one only when the loss and gradient norm are finite (`finiteStep`).
   */
  step(
    mbs: MicroBatch[],
    scale: number,
    seeds: number[],
    opt: OptimizerScalars,
  ): Promise<{ loss: number; gradNorm: number }>;
  /** Σ CE over the micro-batch's labelled tokens. */
  evalLoss(mb: MicroBatch): Promise<number>;
  /** Σ over micro-batches of the gradient of Σ scale·CE (flat layout), without updating anything. */
  gradients(mbs: MicroBatch[], scale: number): Promise<Float32Array>;
  /** Flat vectors in flatLayout order. */
  read(name: StateName): Promise<Float32Array>;
  write(name: StateName, data: Float32Array): Promise<void>;
  dispose(): Promise<void>;
}

/** Token, position and label feeds of a micro-batch. */
export function batchFeeds(rt: Runtime, mb: MicroBatch, scale: number): Record<string, RtTensor> {
  return {
    input_ids: rt.tensor('int32', mb.input_ids, [mb.B, mb.T]),
    position_ids: rt.tensor('int32', mb.position_ids, [mb.B, mb.T]),
    segment_ids: rt.tensor('float32', mb.segment_ids, [mb.B, mb.T]),
    label_pos: rt.tensor('int32', mb.label_pos, [mb.N]),
    label_ids: rt.tensor('int32', mb.label_ids, [mb.N, 1]),
    label_w: rt.tensor('float32', labelWeights(mb, scale), [mb.N]),
  };
}

/**
 * NEFTune's per-token scale α/√(L·d), (B·T, 1): L is the unpadded length of the token's row (packed rows
 * count all their tokens), 0 on padding.
 */
export function neftuneScale(rt: Runtime, mb: MicroBatch, alpha: number, hidden: number): RtTensor {
  const out = new Float32Array(mb.B * mb.T);
  for (let b = 0; b < mb.B; b++) {
    const row = mb.segment_ids.subarray(b * mb.T, (b + 1) * mb.T);
    const len = row.reduce((n, s) => n + (s >= 0 ? 1 : 0), 0);
    if (len)
      for (let t = 0; t < mb.T; t++) if (row[t] >= 0) out[b * mb.T + t] = alpha / Math.sqrt(len * hidden);
  }
  return rt.tensor('float32', out, [mb.B * mb.T, 1]);
}

/** Feeds of the per-micro-batch randomness while training: the hash seed, and NEFTune's scale. */
export function noiseFeeds(s: PlanSettings, mb: MicroBatch, seed: number): Record<string, RtTensor> {
  const f: Record<string, RtTensor> = {};
  if (s.dropout > 0 || s.neftuneAlpha > 0) f.dropout_seed = seedTensor(s.rt, seed);
  if (s.neftuneAlpha > 0)
    f.neftune_scale = neftuneScale(s.rt, mb, s.neftuneAlpha, s.device.config.hidden_size);
  return f;
}

export const scalar = (rt: Runtime, x: number) => rt.tensor('float32', Float32Array.from([x]), []);
export const seedTensor = (rt: Runtime, seed: number) => rt.tensor('int32', Int32Array.from([seed | 0]), [1]);

export function optimizerFeeds(rt: Runtime, opt: OptimizerScalars): Record<string, RtTensor> {
  const f: Record<string, RtTensor> = {
    decay: scalar(rt, opt.decay),
    step_size: scalar(rt, opt.stepSize),
    bc2_sqrt: scalar(rt, opt.bc2Sqrt),
  };
  if (opt.maxNorm > 0) f.max_norm = scalar(rt, opt.maxNorm);
  return f;
}

export const readScalar = async (rt: Runtime, t: RtTensor) => ((await rt.read(t)) as Float32Array)[0];

/**
 * Sessions cached by key: each distinct shape is one graph to build and (WebGPU) compile. `reuseMemory`
 * (SessionOptions) for every session whose build does not say `reuseMemory: false` (evaluation's, run now and
 * then).
 */
export class SessionCache {
  private sessions = new Map<string, Promise<Session>>();
  constructor(
    private readonly rt: Runtime,
    private readonly reuseMemory = false,
  ) {}

  get(
    key: string,
    build: () => { graph: Parameters<typeof toOnnx>[0]; keep: string[]; reuseMemory?: boolean },
  ): Promise<Session> {
    let s = this.sessions.get(key);
    if (!s) {
      const { graph, keep, reuseMemory } = build();
      s = this.rt.createSession(toOnnx(graph), {
        keepOnDevice: keep,
        reuseMemory: this.reuseMemory && reuseMemory !== false,
      });
      // a failed creation is not cached: the next call tries again
      s.catch(() => this.sessions.delete(key));
      this.sessions.set(key, s);
    }
    return s;
  }

  async release(): Promise<void> {
    const all = [...this.sessions.values()];
    this.sessions.clear();
    for (const s of all) await (await s.catch(() => null))?.release();
  }
}

/** The whole-model plan: one step graph per (mode, B, T, N). */
export class WholePlan implements StepPlan {
  readonly kind = 'whole';
  private state = new Map<StateName, RtTensor>();
  private readonly size: number;
  private readonly cache: SessionCache;

  constructor(private readonly s: PlanSettings) {
    this.size = flatLayout(s.specs, s.rank).size;
    this.cache = new SessionCache(s.rt, s.reuseMemory ?? true);
  }

  async write(name: StateName, data: Float32Array): Promise<void> {
    this.replace(name, await this.s.rt.upload('float32', data, [this.size]));
  }

  async read(name: StateName): Promise<Float32Array> {
    return (await this.s.rt.read(this.state.get(name)!)) as Float32Array;
  }

  private replace(name: StateName, t: RtTensor) {
    const old = this.state.get(name);
    this.state.set(name, t);
    if (old) this.s.rt.dispose(old);
  }

  private session(mode: StepMode, mb: MicroBatch, accumulateIn: boolean, clip: boolean): Promise<Session> {
    const s = this.s;
    return this.cache.get(`${mode}/${mb.B}/${mb.T}/${mb.N}/${accumulateIn}/${clip}`, () => {
      const graph = buildStepGraph({
        config: s.device.config,
        weightShapes: s.device.shapes,
        storage: s.device.storage,
        specs: s.specs,
        rank: s.rank,
        scale: s.scale,
        dropout: s.dropout,
        mode,
        B: mb.B,
        T: mb.T,
        N: mb.N,
        chunk: Math.min(s.ceChunk, mb.N),
        accumulateIn,
        clip,
        neftune: s.neftuneAlpha > 0,
      });
      return {
        graph,
        keep: graph.outputs.map((v) => v.name).filter((n) => n !== 'loss' && n !== 'grad_norm'),
        reuseMemory: mode !== 'eval',
      };
    });
  }

  private async feeds(mb: MicroBatch, scale: number): Promise<Record<string, RtTensor>> {
    const rope = await this.s.device.ropeTables(mb.T);
    const f: Record<string, RtTensor> = {
      ...batchFeeds(this.s.rt, mb, scale),
      rope_cos: rope.cos,
      rope_sin: rope.sin,
    };
    this.s.device.feedWeights(f);
    f.params = this.state.get('params')!;
    return f;
  }

  /** Runs the micro-batches; the last one in `last` mode. Returns Σ loss and the last run's outputs. */
  private async run(
    mbs: MicroBatch[],
    scale: number,
    seeds: number[] | null,
    last: StepMode,
    opt?: OptimizerScalars,
  ) {
    const rt = this.s.rt;
    let acc: Record<string, RtTensor> | null = null;
    let loss = 0;
    for (let k = 0; k < mbs.length; k++) {
      const mode = k === mbs.length - 1 ? last : 'accumulate';
      const session = await this.session(mode, mbs[k], acc !== null, mode === 'train' && opt!.maxNorm > 0);
      const feeds = await this.feeds(mbs[k], scale);
      if (acc) feeds.acc = acc.acc_out;
      Object.assign(feeds, noiseFeeds(this.s, mbs[k], seeds ? seeds[k] : 0));
      if (mode === 'train')
        Object.assign(feeds, optimizerFeeds(rt, opt!), { m: this.state.get('m')!, v: this.state.get('v')! });
      const out = await session.run(feeds);
      if (acc) for (const v of Object.values(acc)) rt.dispose(v);
      loss += await readScalar(rt, out.loss);
      acc = out;
    }
    return { loss, out: acc! };
  }

  async step(mbs: MicroBatch[], scale: number, seeds: number[], opt: OptimizerScalars) {
    const { loss, out } = await this.run(mbs, scale, seeds, 'train', opt);
    const gradNorm = await readScalar(this.s.rt, out.grad_norm);
    if (!finiteStep(loss, gradNorm)) {
      for (const v of Object.values(out)) this.s.rt.dispose(v);
      return { loss, gradNorm };
    }
    this.replace('params', out['new.params']);
    this.replace('m', out['new.m']);
    this.replace('v', out['new.v']);
    return { loss, gradNorm };
  }

  async evalLoss(mb: MicroBatch): Promise<number> {
    const out = await (await this.session('eval', mb, false, false)).run(await this.feeds(mb, 1));
    return readScalar(this.s.rt, out.loss);
  }

  async gradients(mbs: MicroBatch[], scale: number): Promise<Float32Array> {
    const { out } = await this.run(mbs, scale, null, 'accumulate');
    const grads = (await this.s.rt.read(out.acc_out)) as Float32Array;
    for (const v of Object.values(out)) this.s.rt.dispose(v);
    return grads;
  }

  async dispose(): Promise<void> {
    await this.cache.release();
    for (const t of this.state.values()) this.s.rt.dispose(t);
    this.state.clear();
  }
}
