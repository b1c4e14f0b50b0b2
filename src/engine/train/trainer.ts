// The training loop over step graphs: uploads base weights once, keeps LoRA weights and AdamW moments on
// the device between steps (outputs fed back as inputs, replaced tensors disposed), runs gradient
// accumulation, schedules, evaluation, and produces adapters and resumable checkpoints.
import { UserError } from '../errors';
import { toOnnx } from '../graph/onnx';
import { DeviceModel, type BaseModel } from '../model/device';
import {
  flatLayout,
  initLora,
  loraSpecs,
  packFlat,
  unpackFlat,
  type LoraSpec,
  type LoraWeights,
} from '../model/lora';
import type { RtTensor, Runtime, Session } from '../runtime/types';
import {
  labelWeights,
  makeMicroBatch,
  planMicroBatches,
  trainedTokens,
  type Example,
  type MicroBatch,
} from './batches';
import { loraScale, lrAt, resolveTargets, type TargetModule, type TrainConfig } from './config';
import { ceChunkRows } from './estimate';
import { Rng } from './rng';
import { buildStepGraph, type StepMode } from './step';

export interface StepMetrics {
  step: number;
  loss: number;
  lr: number;
  grad_norm: number;
  tokens: number;
  ms: number;
}

export interface Checkpoint {
  step: number;
  epoch: number;
  cursor: number;
  order: number[];
  rng: number[];
  lora: LoraWeights;
  m: LoraWeights;
  v: LoraWeights;
}

export interface TrainerInit {
  runtime: Runtime;
  model: BaseModel;
  /** The model already on the device (shared with generation); uploaded here when absent. */
  device?: DeviceModel;
  config: TrainConfig;
  train: Example[];
  /** Start from these adapter weights (fresh optimizer state unless `resume`). */
  init?: LoraWeights;
  resume?: Checkpoint;
  /** Logits rows per cross-entropy chunk (memory bound: rows × vocab × 4 bytes). */
  ceChunk?: number;
}

export class Trainer {
  readonly specs: LoraSpec[];
  readonly targets: TargetModule[];
  readonly totalSteps: number;
  step = 0;
  private epoch = 0;
  private cursor = 0;
  private order: number[] = [];
  private rng: Rng;
  private sessions = new Map<string, Promise<Session>>();
  private device!: DeviceModel;
  private ownsDevice = false;
  /** flat LoRA parameters and AdamW moments on the device: params, m, v */
  private state = new Map<'params' | 'm' | 'v', RtTensor>();
  private readonly layout: ReturnType<typeof flatLayout>;
  private readonly rt: Runtime;
  private readonly perEpoch: number;

  private constructor(private readonly init: TrainerInit) {
    const c = init.config;
    this.rt = init.runtime;
    this.targets = resolveTargets(c.targets);
    this.specs = loraSpecs(init.model.config, this.targets);
    this.rng = new Rng(c.seed);
    if (init.train.length === 0) throw new UserError('no training rows with tokens to train on');
    const microPerEpoch = planMicroBatches(init.train, c.batchSize, c.maxLen, c.packing).length;
    this.perEpoch = Math.max(1, Math.ceil(microPerEpoch / c.gradAccum));
    this.totalSteps = c.steps > 0 ? c.steps : Math.max(1, Math.round(c.epochs * this.perEpoch));
    this.layout = flatLayout(this.specs, c.rank);
  }

  static async create(init: TrainerInit): Promise<Trainer> {
    const t = new Trainer(init);
    await t.upload();
    return t;
  }

  private async upload() {
    const { model, config, resume, init } = this.init;
    this.ownsDevice = !this.init.device;
    this.device = this.init.device ?? (await DeviceModel.upload(this.rt, model));
    const lora = resume?.lora ?? init ?? initLora(this.specs, config.rank, config.seed);
    await this.setState('params', packFlat(this.layout, lora));
    await this.setState('m', packFlat(this.layout, resume?.m));
    await this.setState('v', packFlat(this.layout, resume?.v));
    if (resume) {
      this.step = resume.step;
      this.epoch = resume.epoch;
      this.cursor = resume.cursor;
      this.order = resume.order;
      this.rng = new Rng(resume.rng);
    }
  }

  private async setState(name: 'params' | 'm' | 'v', data: Float32Array) {
    this.replaceState(name, await this.rt.upload('float32', data, [this.layout.size]));
  }

  private replaceState(name: 'params' | 'm' | 'v', t: RtTensor) {
    const old = this.state.get(name);
    this.state.set(name, t);
    if (old) this.rt.dispose(old);
  }

  private session(mode: StepMode, mb: MicroBatch, accumulateIn: boolean): Promise<Session> {
    const key = `${mode}/${mb.B}/${mb.T}/${mb.N}/${accumulateIn}`;
    let s = this.sessions.get(key);
    if (!s) {
      const c = this.init.config;
      const V = this.init.model.config.vocab_size;
      const chunk = this.init.ceChunk ?? ceChunkRows(V);
      const graph = buildStepGraph({
        config: this.init.model.config,
        weightShapes: this.device.shapes,
        specs: this.specs,
        rank: c.rank,
        scale: loraScale(c),
        dropout: c.dropout,
        mode,
        B: mb.B,
        T: mb.T,
        N: mb.N,
        chunk: Math.min(chunk, mb.N),
        accumulateIn,
        clip: c.maxGradNorm > 0,
      });
      const keep = graph.outputs.map((v) => v.name).filter((n) => n !== 'loss' && n !== 'grad_norm');
      s = this.rt.createSession(toOnnx(graph), { keepOnDevice: keep });
      this.sessions.set(key, s);
    }
    return s;
  }

  /** Common feeds of a micro-batch: tokens, positions, labels and base weights. */
  private async feeds(mb: MicroBatch, weightScale: number): Promise<Record<string, RtTensor>> {
    const rope = await this.device.ropeTables(mb.T);
    const rt = this.rt;
    const f: Record<string, RtTensor> = {
      input_ids: rt.tensor('int32', mb.input_ids, [mb.B, mb.T]),
      position_ids: rt.tensor('int32', mb.position_ids, [mb.B, mb.T]),
      segment_ids: rt.tensor('float32', mb.segment_ids, [mb.B, mb.T]),
      rope_cos: rope.cos,
      rope_sin: rope.sin,
      label_pos: rt.tensor('int32', mb.label_pos, [mb.N]),
      label_ids: rt.tensor('int32', mb.label_ids, [mb.N, 1]),
      label_w: rt.tensor('float32', labelWeights(mb, weightScale), [mb.N]),
    };
    this.device.feedWeights(f);
    f.params = this.state.get('params')!;
    return f;
  }

  /** The next `gradAccum` micro-batches in the epoch's order (reshuffled at each epoch start). */
  private nextMicroBatches(): MicroBatch[] {
    const c = this.init.config;
    const out: MicroBatch[] = [];
    while (out.length < c.gradAccum) {
      if (this.order.length === 0 || this.cursor >= this.order.length) {
        if (this.order.length) this.epoch++;
        this.order = [...this.init.train.keys()];
        if (c.shuffle) this.rng.shuffle(this.order);
        this.cursor = 0;
      }
      // the next micro-batch from the ordered rows: B rows, or (packing) enough rows to fill B sequences
      const window = c.packing ? c.batchSize * 64 : c.batchSize;
      const rows = this.order.slice(this.cursor, this.cursor + window).map((i) => this.init.train[i]);
      const plan = planMicroBatches(rows, c.batchSize, c.maxLen, c.packing)[0];
      this.cursor += plan.reduce((a, seq) => a + seq.length, 0);
      out.push(makeMicroBatch(plan, c.batchSize, c.maxLen));
    }
    return out;
  }

  /** One optimizer step over `gradAccum` micro-batches. */
  async trainStep(): Promise<StepMetrics> {
    const t0 = performance.now();
    const c = this.init.config;
    const mbs = this.nextMicroBatches();
    const tokens = mbs.reduce((a, mb) => a + mb.tokens, 0);
    const scale = tokens > 0 ? 1 / tokens : 0;
    const lr = lrAt(c, this.step, this.totalSteps);
    const t = this.step + 1;
    let acc: Record<string, RtTensor> | null = null;
    let loss = 0;
    for (let k = 0; k < mbs.length; k++) {
      const mb = mbs[k];
      const last = k === mbs.length - 1;
      const session = await this.session(last ? 'train' : 'accumulate', mb, acc !== null);
      const feeds = await this.feeds(mb, scale);
      if (acc) feeds.acc = acc.acc_out;
      if (c.dropout > 0)
        feeds.dropout_seed = this.rt.tensor(
          'int32',
          Int32Array.from([(c.seed * 100_003 + this.step * 131 + k) | 0]),
          [1],
        );
      if (last) {
        feeds.m = this.state.get('m')!;
        feeds.v = this.state.get('v')!;
        if (c.maxGradNorm > 0)
          feeds.max_norm = this.rt.tensor('float32', Float32Array.from([c.maxGradNorm]), []);
        feeds.decay = this.rt.tensor('float32', Float32Array.from([1 - lr * c.weightDecay]), []);
        feeds.step_size = this.rt.tensor('float32', Float32Array.from([lr / (1 - 0.9 ** t)]), []);
        feeds.bc2_sqrt = this.rt.tensor('float32', Float32Array.from([Math.sqrt(1 - 0.999 ** t)]), []);
      }
      const out = await session.run(feeds);
      if (acc) for (const v of Object.values(acc)) this.rt.dispose(v);
      loss += ((await this.rt.read(out.loss)) as Float32Array)[0];
      if (!last) {
        acc = out;
        continue;
      }
      const gradNorm = ((await this.rt.read(out.grad_norm)) as Float32Array)[0];
      this.replaceState('params', out['new.params']);
      this.replaceState('m', out['new.m']);
      this.replaceState('v', out['new.v']);
      this.step++;
      return { step: this.step, loss, lr, grad_norm: gradNorm, tokens, ms: performance.now() - t0 };
    }
    throw new Error('unreachable');
  }

  /** Eval loss = Σ CE / Σ tokens over all examples (not a mean of batch means). */
  async evaluate(examples: Example[]): Promise<{ loss: number; tokens: number }> {
    const c = this.init.config;
    let sum = 0;
    let tokens = 0;
    for (const plan of planMicroBatches(
      examples.filter((e) => trainedTokens(e) > 0),
      c.batchSize,
      c.maxLen,
      c.packing,
    )) {
      const mb = makeMicroBatch(plan, c.batchSize, c.maxLen);
      const session = await this.session('eval', mb, false);
      const out = await session.run(await this.feeds(mb, 1));
      sum += ((await this.rt.read(out.loss)) as Float32Array)[0];
      tokens += mb.tokens;
    }
    return { loss: tokens ? sum / tokens : NaN, tokens };
  }

  /** d(mean CE over `examples`)/d(LoRA) at the current weights, in our layout (for checks and tools). */
  async gradients(examples: Example[]): Promise<LoraWeights> {
    const c = this.init.config;
    const rows = examples.filter((e) => trainedTokens(e) > 0);
    const total = rows.reduce((a, e) => a + trainedTokens(e), 0);
    let acc: Record<string, RtTensor> | null = null;
    for (const plan of planMicroBatches(rows, c.batchSize, c.maxLen, c.packing)) {
      const mb = makeMicroBatch(plan, c.batchSize, c.maxLen);
      const session = await this.session('accumulate', mb, acc !== null);
      const feeds = await this.feeds(mb, 1 / total);
      if (acc) feeds.acc = acc.acc_out;
      if (c.dropout > 0) feeds.dropout_seed = this.rt.tensor('int32', Int32Array.from([0]), [1]);
      const out = await session.run(feeds);
      if (acc) for (const v of Object.values(acc)) this.rt.dispose(v);
      acc = out;
    }
    const grads = unpackFlat(this.layout, (await this.rt.read(acc!.acc_out)) as Float32Array);
    for (const v of Object.values(acc!)) this.rt.dispose(v);
    return grads;
  }

  private async readWeights(name: 'params' | 'm' | 'v'): Promise<LoraWeights> {
    return unpackFlat(this.layout, (await this.rt.read(this.state.get(name)!)) as Float32Array);
  }

  /** Current adapter weights (our layout; see lora.ts toPeft for PEFT tensors). */
  adapter(): Promise<LoraWeights> {
    return this.readWeights('params');
  }

  async checkpoint(): Promise<Checkpoint> {
    return {
      step: this.step,
      epoch: this.epoch,
      cursor: this.cursor,
      order: [...this.order],
      rng: this.rng.state,
      lora: await this.readWeights('params'),
      m: await this.readWeights('m'),
      v: await this.readWeights('v'),
    };
  }

  async dispose(): Promise<void> {
    for (const s of this.sessions.values()) await (await s).release();
    for (const t of this.state.values()) this.rt.dispose(t);
    if (this.ownsDevice) await this.device.dispose();
    this.sessions.clear();
    this.state.clear();
  }
}
