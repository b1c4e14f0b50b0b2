// Training runs in the worker: rows → examples (as the CLI builds them), a seeded validation split, the
// engine's Trainer step by step with pause/resume/stop between steps, metrics and checkpoints stored in
// IndexedDB as they come (checkpoints atomically), and the finished adapter saved to the library.
import { issuesError } from '../src/data/formats';
import { UserError } from '../src/engine/errors';
import { readAdapter, writeAdapter, type AdapterMeta } from '../src/engine/io/peft';
import { memorySource } from '../src/engine/io/source';
import type { LoraWeights } from '../src/engine/model/lora';
import { encodeDataset } from '../src/engine/text/encode';
import type { Example } from '../src/engine/train/batches';
import { resolveTargets, resolveTrainConfig, type TrainConfig } from '../src/engine/train/config';
import { Rng } from '../src/engine/train/rng';
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
  let train: Example[] = enc.examples;
  let val: Example[] = [];
  if (cfg.valSplit > 0) {
    // The same seeded split as the CLI's, so a run here and there see the same rows.
    const order = new Rng(cfg.seed ^ 0x5eed).shuffle([...train.keys()]);
    const nVal = Math.max(1, Math.round(train.length * cfg.valSplit));
    if (nVal >= train.length)
      throw new UserError(`a validation split of ${cfg.valSplit} leaves no training rows`);
    const held = new Set(order.slice(0, nVal));
    val = train.filter((_, i) => held.has(i));
    train = train.filter((_, i) => !held.has(i));
  }
  return { train, val, truncated: enc.stats.truncated, skipped: enc.stats.droppedEmpty };
}

export async function runTraining(
  req: TrainRequest,
  emit: (e: TrainEvent) => void,
  job: Job,
): Promise<TrainResult> {
  const d = await db();
  const m = getModel();
  const runtime = await getRuntime();
  let resume: Checkpoint | undefined;
  let run: store.RunRecord;
  let cfg: TrainConfig;
  let initWeights: LoraWeights | undefined;
  let release = () => {};
  try {
    return await trainRun();
  } finally {
    release();
  }
  async function trainRun(): Promise<TrainResult> {
    if (req.resumeRunId) {
      const prev = await store.getRun(d, req.resumeRunId);
      if (!prev) throw new UserError('that run no longer exists');
      cfg = resolveTrainConfig(prev.config as Partial<TrainConfig>);
      const ckpt = await store.latestCheckpoint(d, prev.id);
      resume = ckpt?.data as Checkpoint | undefined;
      if (!ckpt || !resume) throw new UserError(`run "${prev.name}" has no checkpoint to resume from`);
      release = await holdRunLock(prev.id, prev.name);
      await store.rewindRun(d, prev.id, ckpt.step);
      run = await store.updateRun(d, prev.id, { status: 'running', error: undefined });
    } else {
      cfg = resolveTrainConfig(req.config);
      if (req.initAdapterId) {
        const files = await store.getAdapterFiles(d, req.initAdapterId);
        if (!files) throw new UserError('the chosen start adapter is no longer in the library');
        const a = await readAdapter(memorySource(files, 'library adapter'), m.model.config);
        initWeights = a.weights;
        cfg = resolveTrainConfig({
          ...cfg,
          rank: a.meta.rank,
          alpha: a.meta.alpha,
          targets: a.meta.targets,
          rslora: a.meta.rslora,
        });
      }
      run = await store.createRun(d, {
        name: req.name,
        model: m.label,
        datasetId: req.datasetId,
        datasetName: req.datasetName,
        config: { ...cfg, rows: req.rows.length } as unknown as Record<string, unknown>,
        totalSteps: 0,
      });
      release = await holdRunLock(run.id, run.name);
    }
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
      const ex = examplesFor(req, cfg);
      if (resume && (run.config as { rows?: number }).rows !== req.rows.length) {
        throw new UserError('the dataset changed since this run was paused; start a new run instead');
      }
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
        init: initWeights,
        resume,
        plan: plan.plan,
        ceChunk: plan.ceChunk,
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
      const meta: AdapterMeta = {
        rank: cfg.rank,
        alpha: cfg.alpha,
        targets: resolveTargets(cfg.targets),
        rslora: cfg.rslora,
        dropout: cfg.dropout,
        baseModel: m.label,
      };
      const checkpoint = async () => {
        await store.saveCheckpoint(d, runId, t.step, await t.checkpoint());
        emit({ type: 'checkpoint', runId, step: t.step });
      };
      const evaluate = async () => {
        if (!ex.val.length) return undefined;
        const { loss } = await t.evaluate(ex.val);
        await store.appendMetrics(d, runId, [{ runId, step: t.step, kind: 'val', loss, time: Date.now() }]);
        emit({ type: 'val', runId, step: t.step, loss });
        return loss;
      };
      const evalEvery = cfg.evalEvery || t.totalSteps;
      let lastVal: number | undefined;
      let lastLoss: number | undefined;
      while (t.step < t.totalSteps && !job.cancelled) {
        if (job.isPaused) {
          await checkpoint();
          await status('paused');
          await job.gate().catch(() => undefined);
          if (job.cancelled) break;
          await status('running');
        }
        const mt = await t.trainStep();
        if (!Number.isFinite(mt.loss))
          throw new UserError(`the loss became ${mt.loss} at step ${mt.step}; try a lower learning rate`);
        lastLoss = mt.loss;
        await store.appendMetrics(d, runId, [{ ...mt, runId, kind: 'train', time: Date.now() }]);
        emit({ type: 'step', runId, metrics: mt });
        if (ex.val.length && (mt.step % evalEvery === 0 || mt.step === t.totalSteps))
          lastVal = await evaluate();
        if (cfg.checkpointEvery > 0 && mt.step % cfg.checkpointEvery === 0) await checkpoint();
      }
      // Stopped early or finished: keep a checkpoint (resumable) and the adapter as trained so far.
      if (t.step > 0) {
        if (job.cancelled && ex.val.length) lastVal = await evaluate();
        await checkpoint();
        const files = writeAdapter(m.model.config, { meta, weights: await t.adapter() });
        const adapter = await store.saveAdapter(
          d,
          {
            name: `${req.name || run.name}${job.cancelled ? ` (stopped at ${t.step})` : ''}`,
            baseModel: m.label,
            rank: meta.rank,
            alpha: meta.alpha,
            targets: meta.targets,
            datasetName: req.datasetName,
            steps: t.step,
            finalLoss: lastLoss,
            finalValLoss: lastVal,
            runId,
            origin: 'trained',
          },
          files,
        );
        await store.updateRun(d, runId, { adapterId: adapter.id });
        emit({ type: 'adapter', runId, adapterId: adapter.id });
        const final: RunStatus = job.cancelled ? 'stopped' : 'done';
        await status(final);
        return { runId, status: final, adapterId: adapter.id };
      }
      await status('stopped');
      return { runId, status: 'stopped' };
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
}
