// The training loop over step graphs: uploads base weights once, keeps LoRA weights and AdamW moments on
// the device between steps (outputs fed back as inputs, replaced tensors disposed), runs gradient
// accumulation, schedules, evaluation, and produces adapters and resumable checkpoints.
import { UserError } from '../errors';
import { DeviceModel, type BaseModel, type WeightStream } from '../model/device';
import {
  flatLayout,
  initLora,
  loraSpecs,
  packFlat,
  unpackFlat,
  type LoraSpec,
  type LoraWeights,
} from '../model/lora';
import type { Runtime } from '../runtime/types';
import type { WeightStorage } from '../model/weight-inputs';
import { makeMicroBatch, planMicroBatches, trainedTokens, type Example, type MicroBatch } from './batches';
import { loraScale, lrAt, resolveTargets, type TargetModule, type TrainConfig } from './config';
import { ceChunkRows } from './estimate';
import { Rng } from './rng';
import { LayerwisePlan } from './layerwise-plan';
import {
  finiteStep,
  WholePlan,
  type PlanKind,
  type PlanSettings,
  type StateName,
  type StepPlan,
} from './plan';

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
  /** Fingerprint of the training examples (data-split.ts `datasetFingerprint`); a resume refuses other data. */
  data?: string;
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
  model: BaseModel | WeightStream;
  /** The model already on the device (shared with generation); uploaded here when absent. */
  device?: DeviceModel;
  config: TrainConfig;
  train: Example[];
  /** Start from these adapter weights (fresh optimizer state unless `resume`). */
  init?: LoraWeights;
  resume?: Checkpoint;
  /** Logits rows per cross-entropy chunk (memory bound: rows × vocab × 4 bytes). */
  ceChunk?: number;
  /** Layer-wise plan: sequences run through the layers at a time (the planner's; default the whole micro-batch). */
  rowsPerRun?: number;
  /** Layer-wise plan: attention in blocks of this many queries (the planner's; default unblocked). */
  queryBlock?: number;
  /** CPU: training sessions keep their memory between runs (PlanSettings.reuseMemory; the planner's). */
  reuseMemory?: boolean;
  /** How steps run: one whole-model graph, or layer by layer with recomputation (DESIGN §8). */
  plan?: PlanKind;
  /** dtype of the base weights when this trainer uploads them */
  storage?: WeightStorage;
  /** Told when the trainer changes how it runs (e.g. out of memory: whole-model → layer-wise). */
  onNote?: (message: string) => void;
}

/**
 * A step whose loss or gradient norm was NaN or ±Inf: its update was not applied and the trainer is back at
 * the state before it (weights, moments, step, data cursor, RNG), so a checkpoint now holds the last good state.
 */
export class NonFiniteStepError extends UserError {
  override name = 'NonFiniteStepError';
  constructor(
    readonly step: number,
    readonly loss: number,
    readonly gradNorm: number,
    readonly lr: number,
  ) {
    const what = Number.isFinite(loss) ? `the gradient norm was ${gradNorm}` : `the loss was ${loss}`;
    super(
      `step ${step}: ${what}, so its update was not applied; the run is paused at step ${step - 1}, ` +
        `its last good state. Try a lower learning rate (this run's is ${lr}).`,
    );
  }
}

/** Errors a runtime raises when an allocation fails (onnxruntime CPU, WASM heap, WebGPU buffers). */
export const isOutOfMemory = (e: unknown) =>
  /bad_alloc|out of memory|failed to allocate|allocation failed|Cannot enlarge memory|OOM/i.test(String(e));

export class Trainer {
  readonly specs: LoraSpec[];
  readonly targets: TargetModule[];
  readonly totalSteps: number;
  step = 0;
  private epoch = 0;
  private cursor = 0;
  private order: number[] = [];
  private rng: Rng;
  private device!: DeviceModel;
  private ownsDevice = false;
  private plan!: StepPlan;
  private settings!: PlanSettings;
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
    try {
      await t.upload();
    } catch (e) {
      await t.dispose();
      throw e;
    }
    return t;
  }

  /** The plan steps run with. */
  get planKind(): PlanKind {
    return this.plan.kind;
  }

  private async upload() {
    const { model, config, resume, init } = this.init;
    this.ownsDevice = !this.init.device;
    this.device =
      this.init.device ?? (await DeviceModel.upload(this.rt, model, { storage: this.init.storage }));
    const settings = {
      rt: this.rt,
      device: this.device,
      specs: this.specs,
      rank: config.rank,
      scale: loraScale(config),
      dropout: config.dropout,
      neftuneAlpha: config.neftuneAlpha,
      ceChunk: this.init.ceChunk ?? ceChunkRows(model.config.vocab_size),
      rowsPerRun: this.init.rowsPerRun,
      queryBlock: this.init.queryBlock,
      reuseMemory: this.init.reuseMemory,
    };
    this.settings = settings;
    this.plan = this.init.plan === 'layerwise' ? new LayerwisePlan(settings) : new WholePlan(settings);
    const lora = resume?.lora ?? init ?? initLora(this.specs, config.rank, config.seed);
    await this.plan.write('params', packFlat(this.layout, lora));
    await this.plan.write('m', packFlat(this.layout, resume?.m));
    await this.plan.write('v', packFlat(this.layout, resume?.v));
    if (resume) {
      this.step = resume.step;
      this.epoch = resume.epoch;
      this.cursor = resume.cursor;
      this.order = resume.order;
      this.rng = new Rng(resume.rng);
    }
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
    const before = { epoch: this.epoch, cursor: this.cursor, order: this.order, rng: this.rng.state };
    const mbs = this.nextMicroBatches();
    const tokens = mbs.reduce((a, mb) => a + mb.tokens, 0);
    const lr = lrAt(c, this.step, this.totalSteps);
    const t = this.step + 1;
    const seeds = mbs.map((_, k) => (c.seed * 100_003 + this.step * 131 + k) | 0);
    const opt = {
      decay: 1 - lr * c.weightDecay,
      stepSize: lr / (1 - 0.9 ** t),
      bc2Sqrt: Math.sqrt(1 - 0.999 ** t),
      maxNorm: c.maxGradNorm,
    };
    const scale = tokens > 0 ? 1 / tokens : 0;
    let r: { loss: number; gradNorm: number };
    try {
      r = await this.plan.step(mbs, scale, seeds, opt);
    } catch (e) {
      // a step that runs out of memory lowers the plan once and retries (its state was not touched)
      if (this.plan.kind !== 'whole' || !isOutOfMemory(e)) throw e;
      await this.lowerPlan();
      r = await this.plan.step(mbs, scale, seeds, opt);
    }
    const { loss, gradNorm } = r;
    if (!finiteStep(loss, gradNorm)) {
      // the plan kept its state; the data cursor and RNG go back too, so a checkpoint is the last good state
      this.epoch = before.epoch;
      this.cursor = before.cursor;
      this.order = before.order;
      this.rng = new Rng(before.rng);
      throw new NonFiniteStepError(this.step + 1, loss, gradNorm, lr);
    }
    this.step++;
    return { step: this.step, loss, lr, grad_norm: gradNorm, tokens, ms: performance.now() - t0 };
  }

  /** Moves the LoRA state into a layer-wise plan (after the whole-model step ran out of memory). */
  private async lowerPlan() {
    const next = new LayerwisePlan(this.settings);
    for (const name of ['params', 'm', 'v'] as const) await next.write(name, await this.plan.read(name));
    await this.plan.dispose();
    this.plan = next;
    this.init.onNote?.('the whole-model step ran out of memory: continuing with the layer-wise plan');
  }

  private batches(examples: Example[]): MicroBatch[] {
    const c = this.init.config;
    return planMicroBatches(
      examples.filter((e) => trainedTokens(e) > 0),
      c.batchSize,
      c.maxLen,
      c.packing,
    ).map((plan) => makeMicroBatch(plan, c.batchSize, c.maxLen));
  }

  /** Eval loss = Σ CE / Σ tokens over all examples (not a mean of batch means). */
  async evaluate(examples: Example[]): Promise<{ loss: number; tokens: number }> {
    let sum = 0;
    let tokens = 0;
    for (const mb of this.batches(examples)) {
      sum += await this.plan.evalLoss(mb);
      tokens += mb.tokens;
    }
    return { loss: tokens ? sum / tokens : NaN, tokens };
  }

  /** d(mean CE over `examples`)/d(LoRA) at the current weights, in our layout (for checks and tools). */
  async gradients(examples: Example[]): Promise<LoraWeights> {
    const mbs = this.batches(examples);
    const total = mbs.reduce((a, mb) => a + mb.tokens, 0);
    return unpackFlat(this.layout, await this.plan.gradients(mbs, 1 / total));
  }

  private async readWeights(name: StateName): Promise<LoraWeights> {
    return unpackFlat(this.layout, await this.plan.read(name));
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
    await this.plan?.dispose();
    if (this.ownsDevice) await this.device?.dispose();
  }
}
