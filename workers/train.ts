// Training runs in the worker: rows → examples (as the CLI builds them), the engine's training loop (the
// CLI's: validation split, checkpoints by steps and by time, pause/stop, NaN/Inf steps refused), metrics and
// checkpoints stored in IndexedDB as they come (checkpoints atomically), the adapter saved to the library.
import { issuesError } from '../src/data/formats';
import { UserError } from '../src/engine/errors';
import { readAdapter, writeAdapter, type AdapterMeta } from '../src/engine/io/peft';
import { memorySource } from '../src/engine/io/source';
import type { LoraWeights } from '../src/engine/model/lora';
import { encodeDataset } from '../src/engine/text/encode';
import { resolveTargets, resolveTrainConfig, type TrainConfig } from '../src/engine/train/config';
import { checkResumeData, datasetFingerprint, splitValidation } from '../src/engine/train/data-split';
import { runTrainingLoop, type LoopHooks } from '../src/engine/train/loop';
import { planStudioRun } from '../src/engine/train/planner';
import { Trainer, type Checkpoint, type StepMetrics } from '../src/engine/train/trainer';
import * as store from '../src/storage';
import { StorageFullError, type DataRow, type RunStatus } from '../src/storage';
import { isDeviceLost } from '../src/engine/runtime/lost';
import { db, deviceLostMessage, getDeviceModel, getModel, getRuntime } from './context';
import { encodeContext, toRows } from './data';
import type { Job } from './jobs';
import { holdRunLock } from './locks';

export interface TrainRequest {
  name: string;
  datasetId: string;
  datasetName: string;
  rows: DataRow[];
  config: Partial<TrainConfig>;
  /** Continue this run from its last checkpoint (same dataset and config). */
  resumeRunId?: string;
  /** With resumeRunId: the peak learning rate from here on (a run paused on a NaN/Inf step); kept in the run. */
  resumeLr?: number;
  /** Start from a library adapter's weights (its rank, alpha and targets win). */
  initAdapterId?: string;
}

export type TrainEvent =
  /** The run's record exists (and this tab holds its lock): sent before the trainer is built. */
  | { type: 'created'; runId: string }
  | {
      type: 'start';
      runId: string;
      totalSteps: number;
      step: number;
      trainRows: number;
      valRows: number;
      truncated: number;
      skipped: number;
    }
  | { type: 'step'; runId: string; metrics: StepMetrics }
  | { type: 'val'; runId: string; step: number; loss: number }
  | { type: 'status'; runId: string; status: RunStatus; message?: string }
  | { type: 'checkpoint'; runId: string; step: number }
  | { type: 'adapter'; runId: string; adapterId: string };

export interface TrainResult {
  runId: string;
  status: RunStatus;
  adapterId?: string;
}

type Examples = ReturnType<typeof examplesFor>;

function examplesFor(req: TrainRequest, cfg: TrainConfig) {
  const m = getModel();
  const { rows, issues } = toRows(req.rows, req.datasetName, m.model.config.vocab_size);
  if (issues.length) throw issuesError(issues);
  if (rows.length === 0) throw new UserError(`dataset "${req.datasetName}" has no rows`);
  const enc = encodeDataset(rows, encodeContext(m, cfg.maxLen, cfg.trainOnPrompt));
  const hard = enc.issues.filter((i) => !i.message.startsWith('nothing to train on'));
  if (hard.length) throw issuesError(hard);
  if (enc.examples.length === 0)
    throw new UserError('no row has anything to train on (every label is masked)');
  return {
    ...splitValidation(enc.examples, cfg.valSplit, cfg.seed),
    fingerprint: datasetFingerprint(enc.examples),
    truncated: enc.stats.truncated,
    skipped: enc.stats.droppedEmpty,
  };
}

/** A run about to train: its record (locked by this tab), config, and where it starts from. */
interface OpenRun {
  run: store.RunRecord;
  cfg: TrainConfig;
  resume?: Checkpoint;
  init?: LoraWeights;
  /** Known before the run was touched when resuming (the data is checked first). */
  examples?: Examples;
  release: () => void;
}

/**
 * Reopens a run at its last checkpoint. The data is checked before anything changes: a run whose dataset
 * changed stays as it was (resumable once the original rows are back). A run that ended before its first
 * checkpoint (a GPU reset, a dead worker) starts again from step 0, from its start adapter if it had one.
 */
async function reopenRun(d: store.DB, req: TrainRequest, runId: string): Promise<OpenRun> {
  const prev = await store.getRun(d, runId);
  if (!prev) throw new UserError('that run no longer exists');
  const cfg = resolveTrainConfig({
    ...(prev.config as Partial<TrainConfig>),
    ...(req.resumeLr !== undefined ? { lr: req.resumeLr } : {}),
  });
  const ckpt = await store.latestCheckpoint(d, prev.id);
  const resume = ckpt?.data as Checkpoint | undefined;
  const examples = examplesFor(req, cfg);
  if (resume) {
    checkResumeData(resume, examples.fingerprint);
    if (!resume.data && (prev.config as { rows?: number }).rows !== req.rows.length)
      throw new UserError('the dataset changed since this run was paused; start a new run instead');
  }
  const initId = (prev.config as { initAdapterId?: string }).initAdapterId;
  const init = !resume && initId ? (await startAdapter(d, initId)).weights : undefined;
  const release = await holdRunLock(prev.id, prev.name);
  try {
    await store.rewindRun(d, prev.id, ckpt && resume ? ckpt.step : 0);
    const run = await store.updateRun(d, prev.id, {
      status: 'running',
      error: undefined,
      ...(cfg.lr !== prev.config.lr ? { config: { ...prev.config, lr: cfg.lr } } : {}),
    });
    return { run, cfg, resume, init, examples, release };
  } catch (e) {
    release();
    throw e;
  }
}

/** A library adapter a run starts from. */
async function startAdapter(d: store.DB, id: string) {
  const files = await store.getAdapterFiles(d, id);
  if (!files) throw new UserError('the chosen start adapter is no longer in the library');
  return readAdapter(memorySource(files, 'library adapter'), getModel().model.config);
}

/** A new run's record (and lock); a library adapter to start from sets its rank, alpha and targets. */
async function createRun(d: store.DB, req: TrainRequest): Promise<OpenRun> {
  const m = getModel();
  let cfg = resolveTrainConfig(req.config);
  let init: LoraWeights | undefined;
  if (req.initAdapterId) {
    const a = await startAdapter(d, req.initAdapterId);
    init = a.weights;
    cfg = resolveTrainConfig({
      ...cfg,
      rank: a.meta.rank,
      alpha: a.meta.alpha,
      targets: a.meta.targets,
      rslora: a.meta.rslora,
    });
  }
  const run = await store.createRun(d, {
    name: req.name,
    model: m.label,
    datasetId: req.datasetId,
    datasetName: req.datasetName,
    config: { ...cfg, rows: req.rows.length, initAdapterId: req.initAdapterId } as unknown as Record<
      string,
      unknown
    >,
    totalSteps: 0,
  });
  return { run, cfg, init, release: await holdRunLock(run.id, run.name) };
}

export async function runTraining(
  req: TrainRequest,
  emit: (e: TrainEvent) => void,
  job: Job,
): Promise<TrainResult> {
  const d = await db();
  const open = req.resumeRunId ? await reopenRun(d, req, req.resumeRunId) : await createRun(d, req);
  try {
    return await trainRun(d, req, open, emit, job);
  } finally {
    open.release();
  }
}

async function trainRun(
  d: store.DB,
  req: TrainRequest,
  open: OpenRun,
  emit: (e: TrainEvent) => void,
  job: Job,
): Promise<TrainResult> {
  const m = getModel();
  const { run, cfg } = open;
  const runId = run.id;
  emit({ type: 'created', runId });
  const status = async (s: RunStatus, message?: string) => {
    await store
      .updateRun(d, runId, { status: s, ...(message ? { error: message } : {}) })
      .catch(() => undefined);
    emit({ type: 'status', runId, status: s, message });
  };
  let trainer: Trainer | undefined;
  try {
    const ex = open.examples ?? examplesFor(req, cfg);
    const runtime = await getRuntime();
    const device = await getDeviceModel();
    // the same planner as the CLI and the Train tab: the fastest plan within the memory budget, or a refusal
    const longest = Math.max(1, ...ex.train.map((e) => e.input_ids.length));
    const plan = planStudioRun(m.model.config, cfg, runtime.info, device.storage, longest);
    trainer = await Trainer.create({
      runtime,
      model: m.model,
      device,
      config: cfg,
      train: ex.train,
      init: open.init,
      resume: open.resume,
      plan: plan.plan,
      ceChunk: plan.ceChunk,
      rowsPerRun: plan.rows,
      queryBlock: plan.queryBlock,
      reuseMemory: plan.reuseMemory,
    });
    const t = trainer;
    await store.updateRun(d, runId, { totalSteps: t.totalSteps });
    emit({
      type: 'start',
      runId,
      totalSteps: t.totalSteps,
      step: t.step,
      trainRows: ex.train.length,
      valRows: ex.val.length,
      truncated: ex.truncated,
      skipped: ex.skipped,
    });
    const result = await runTrainingLoop(t, {
      config: cfg,
      val: ex.val,
      fingerprint: ex.fingerprint,
      resume: open.resume,
      hooks: storeHooks(d, runId, emit, job, status),
    });
    if (result.status === 'paused') {
      // a NaN/Inf step: the last good state is checkpointed, the message names the step
      await status('paused', result.message);
      return { runId, status: 'paused' };
    }
    if (t.step === 0) {
      await status('stopped');
      return { runId, status: 'stopped' };
    }
    // stopped early or finished: the adapter as trained so far goes to the library
    const stopped = result.status === 'stopped';
    const meta: AdapterMeta = {
      rank: cfg.rank,
      alpha: cfg.alpha,
      targets: resolveTargets(cfg.targets),
      rslora: cfg.rslora,
      dropout: cfg.dropout,
      baseModel: m.label,
    };
    const adapter = await store.saveAdapter(
      d,
      {
        name: `${req.name || run.name}${stopped ? ` (stopped at ${t.step})` : ''}`,
        baseModel: m.label,
        rank: meta.rank,
        alpha: meta.alpha,
        targets: meta.targets,
        datasetName: req.datasetName,
        steps: t.step,
        finalLoss: result.lastLoss,
        finalValLoss: result.lastValLoss,
        runId,
        origin: 'trained',
      },
      writeAdapter(m.model.config, { meta, weights: await t.adapter() }),
    );
    await store.updateRun(d, runId, { adapterId: adapter.id });
    emit({ type: 'adapter', runId, adapterId: adapter.id });
    await status(result.status);
    return { runId, status: result.status, adapterId: adapter.id };
  } catch (e) {
    if (e instanceof StorageFullError) {
      // the failed write left everything before it in place: the run keeps its last good checkpoint
      const kept = (await store.getRun(d, runId).catch(() => undefined))?.checkpointStep;
      const message = `${e.message} The run is paused${kept ? ` at its checkpoint of step ${kept}` : ''}: resume it from the run history once there is space.`;
      await status('paused', message);
      return { runId, status: 'paused' };
    }
    if (isDeviceLost(e)) {
      // the GPU's copy of the run is gone, its stored checkpoints are not: resumable from the last one
      const kept = (await store.getRun(d, runId).catch(() => undefined))?.checkpointStep;
      await status('interrupted', deviceLostMessage(kept));
      return { runId, status: 'interrupted' };
    }
    await status('failed', e instanceof Error ? e.message : String(e));
    throw e;
  } finally {
    await trainer?.dispose().catch(() => undefined);
  }
}

/** The loop's callbacks in the studio: metrics and checkpoints into IndexedDB, events to the page, the job's pause/stop. */
function storeHooks(
  d: store.DB,
  runId: string,
  emit: (e: TrainEvent) => void,
  job: Job,
  status: (s: RunStatus, message?: string) => Promise<void>,
): LoopHooks {
  return {
    shouldStop: () => job.cancelled,
    shouldPause: () => job.isPaused,
    whilePaused: async () => {
      await status('paused');
      await job.gate().catch(() => undefined);
    },
    onContinue: () => status('running'),
    onStep: async (metrics) => {
      await store.appendMetrics(d, runId, [store.trainMetricRecord(runId, metrics)]);
      emit({ type: 'step', runId, metrics });
    },
    onEval: async (step, loss) => {
      await store.appendMetrics(d, runId, [{ runId, step, kind: 'val', loss, time: Date.now() }]);
      emit({ type: 'val', runId, step, loss });
    },
    onCheckpoint: async (ck) => {
      await store.saveCheckpoint(d, runId, ck.step, ck);
      emit({ type: 'checkpoint', runId, step: ck.step });
    },
  };
}
