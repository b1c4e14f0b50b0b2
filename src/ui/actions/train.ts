// Train tab actions: start a run in the worker (events update the live run), pause/resume/stop it, resume
// an interrupted run from its checkpoint, and show or delete past runs.
import type { TrainConfig } from '../../engine/train/config';
import * as storage from '../../storage';
import type { RunRecord } from '../../storage';
import { useStudio } from '../../state/store';
import type { LiveRun } from '../../state/train';
import type { TrainEvent } from '../../../workers/api';
import { cb, engine, errorText, isUserFacing, newJobId } from '../engine';
import { db, refreshRuns, refreshStorage, report } from './app';
import { activeDataset, flushDatasets } from './data';

const st = () => useStudio.getState();

function onEvent(e: TrainEvent) {
  const run = st().run;
  if (!run) return;
  switch (e.type) {
    case 'start':
      st().patchRun({
        runId: e.runId,
        status: 'running',
        totalSteps: e.totalSteps,
        firstStep: e.step,
        startedAt: performance.now(),
        trainRows: e.trainRows,
        valRows: e.valRows,
        truncated: e.truncated,
      });
      if (e.truncated)
        st().notify('info', `${e.truncated} rows are longer than max length and were truncated`);
      void refreshRuns();
      break;
    case 'step':
      st().addStep(e.metrics);
      break;
    case 'val':
      st().patchRun({ val: [...run.val, { step: e.step, loss: e.loss }] });
      break;
    case 'status':
      st().patchRun({ status: e.status, message: e.message ?? null });
      void refreshRuns();
      break;
    case 'checkpoint':
      st().patchRun({ lastCheckpoint: e.step });
      break;
    case 'adapter':
      st().patchRun({ adapterId: e.adapterId });
      void refreshStorage();
      break;
  }
}

async function launch(live: Omit<LiveRun, 'jobId'>, req: Parameters<ReturnType<typeof engine>['train']>[0]) {
  const jobId = newJobId('train');
  st().setRun({ ...live, jobId });
  try {
    const res = await engine().train(req, cb(onEvent), jobId);
    st().patchRun({ status: res.status });
  } catch (e) {
    st().patchRun({ status: 'failed', message: errorText(e) });
    report(e, isUserFacing(e) ? 'training stopped' : 'training failed');
  } finally {
    await refreshRuns();
  }
}

const blankRun = (name: string): Omit<LiveRun, 'jobId'> => ({
  runId: null,
  name,
  status: 'starting',
  totalSteps: 0,
  firstStep: 0,
  startedAt: performance.now(),
  metrics: [],
  val: [],
  trainRows: 0,
  valRows: 0,
  truncated: 0,
  lastCheckpoint: null,
  adapterId: null,
  message: null,
});

export async function startTraining(opts: { name: string; initAdapterId?: string }) {
  const ds = activeDataset();
  if (!ds) return st().notify('error', 'choose or create a dataset on the Data tab first');
  if (st().modelStatus !== 'ready') return st().notify('error', 'load a model on the Model tab first');
  await flushDatasets();
  const config: TrainConfig = { ...st().trainForm, valSplit: ds.valSplit };
  await launch(blankRun(opts.name), {
    name: opts.name,
    datasetId: ds.id,
    datasetName: ds.name,
    rows: ds.rows,
    config,
    initAdapterId: opts.initAdapterId,
  });
}

/** Continues an interrupted, paused or stopped run from its last checkpoint, with its dataset. */
export async function resumeRun(run: RunRecord) {
  const ds = await storage.getDataset(await db(), run.datasetId);
  if (!ds) return st().notify('error', `the dataset "${run.datasetName}" of this run was deleted`);
  const metrics = await storage.getMetrics(await db(), run.id);
  const live = blankRun(run.name);
  live.metrics = metrics
    .filter((m) => m.kind === 'train')
    .map((m) => ({
      step: m.step,
      loss: m.loss,
      lr: m.lr ?? 0,
      grad_norm: m.grad_norm ?? 0,
      tokens: m.tokens ?? 0,
      ms: m.ms ?? 0,
    }));
  live.val = metrics.filter((m) => m.kind === 'val').map((m) => ({ step: m.step, loss: m.loss }));
  await launch(live, {
    name: run.name,
    datasetId: ds.id,
    datasetName: ds.name,
    rows: ds.rows,
    config: run.config as Partial<TrainConfig>,
    resumeRunId: run.id,
  });
}

export const pauseRun = () => {
  const r = st().run;
  if (r) void engine().pause(r.jobId);
};
export const continueRun = () => {
  const r = st().run;
  if (r) void engine().resume(r.jobId);
};
export const stopRun = () => {
  const r = st().run;
  if (r) void engine().cancel(r.jobId);
};

/** Shows a past run's curves in the charts (read-only). */
export async function showRun(run: RunRecord) {
  if (st().run && ['running', 'paused', 'starting'].includes(st().run!.status)) return;
  const metrics = await storage.getMetrics(await db(), run.id);
  const live = blankRun(run.name);
  st().setRun({
    ...live,
    jobId: '',
    runId: run.id,
    status: run.status,
    totalSteps: run.totalSteps,
    adapterId: run.adapterId ?? null,
    message: run.error ?? null,
    metrics: metrics
      .filter((m) => m.kind === 'train')
      .map((m) => ({
        step: m.step,
        loss: m.loss,
        lr: m.lr ?? 0,
        grad_norm: m.grad_norm ?? 0,
        tokens: m.tokens ?? 0,
        ms: m.ms ?? 0,
      })),
    val: metrics.filter((m) => m.kind === 'val').map((m) => ({ step: m.step, loss: m.loss })),
  });
}

export async function deleteRun(run: RunRecord) {
  try {
    await storage.deleteRun(await db(), run.id);
    if (st().run?.runId === run.id) st().setRun(null);
    await refreshRuns();
    await refreshStorage();
  } catch (e) {
    report(e);
  }
}
