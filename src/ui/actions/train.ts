// Train tab actions: start a run in the worker (events update the live run), pause/resume/stop it, resume
// an interrupted run from its checkpoint, and show or delete past runs. One run trains per tab at a time:
// a second Start (even in the same instant) is refused, and so is deleting the live run without stopping it.
import type { TrainConfig } from '../../engine/train/config';
import * as storage from '../../storage';
import type { RunRecord } from '../../storage';
import { useStudio } from '../../state/store';
import { liveRun, type LiveRun } from '../../state/train';
import type { TrainEvent } from '../../../workers/api';
import { cb, errorText, isEngineLost, isUserFacing, newJobId, untilLost, engine } from '../engine';
import { db, refreshRuns, refreshStorage, report, trainedHere } from './app';
import { activeDataset, flushDatasets } from './data';

const st = () => useStudio.getState();

/** Set from the first instant of a Start or Resume until its run has ended. */
let busy = false;
/** The live run's whole course in the worker, settled when it ends. */
let current: Promise<void> | null = null;

/** A run is being set up or trains (or is paused) in this tab. */
export const trainingNow = () => busy || liveRun(st()) !== null;

/** Why something that would break the live run must wait, or null when no run trains in this tab. */
export function busyReason(what: string): string | null {
  if (!trainingNow()) return null;
  const name = st().run?.name;
  return `${what} while a run trains${name ? ` ("${name}")` : ''}: stop the run, or wait until it ends, then try again`;
}

/** Patches the live run only if it is still the one of job `jobId`. */
function patchJob(jobId: string, patch: Partial<LiveRun>) {
  if (st().run?.jobId === jobId) st().patchRun(patch);
}

function onEvent(jobId: string, e: TrainEvent) {
  const run = st().run;
  // an event of an older run; a finished job's last events still count (they may come after its result)
  if (!run || run.jobId !== jobId) return;
  switch (e.type) {
    case 'created':
      trainedHere.add(e.runId);
      st().patchRun({ runId: e.runId });
      void refreshRuns();
      break;
    case 'start':
      st().patchRun({
        runId: e.runId,
        status: 'running',
        totalSteps: e.totalSteps,
        firstStep: e.step,
        startedAt: performance.now(),
        stepStartedAt: performance.now(),
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
      st().patchRun({
        status: e.status,
        message: e.message ?? null,
        ...(e.status === 'running' ? { stepStartedAt: performance.now() } : {}),
      });
      if (e.message && (e.status === 'paused' || e.status === 'interrupted')) st().notify('error', e.message);
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

async function launch(
  live: Omit<LiveRun, 'jobId'>,
  req: Parameters<ReturnType<typeof engine>['train']>[0],
  refusedAs: LiveRun['status'] = 'failed',
) {
  const jobId = newJobId('train');
  st().setRun({ ...live, jobId });
  const course = (async () => {
    try {
      const res = await untilLost((e) =>
        e.train(
          req,
          cb((ev: TrainEvent) => onEvent(jobId, ev)),
          jobId,
        ),
      );
      patchJob(jobId, { status: res.status, ended: true });
    } catch (e) {
      if (isEngineLost(e)) return; // engineLost() has marked the run interrupted
      // a resume refused before it began (e.g. the dataset changed) leaves the run as it was: still resumable
      const refused = isUserFacing(e) && st().run?.status === 'starting';
      patchJob(jobId, { status: refused ? refusedAs : 'failed', message: errorText(e), ended: true });
      report(e, isUserFacing(e) ? 'training stopped' : 'training failed');
    } finally {
      await Promise.all([refreshRuns(), refreshStorage()]);
    }
  })();
  current = course;
  await course;
  current = null;
}

const blankRun = (name: string, datasetId: string): Omit<LiveRun, 'jobId'> => ({
  runId: null,
  datasetId,
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

/** Runs `body` as this tab's one training run; refused (with a message) while another is set up or live. */
async function exclusive(body: () => Promise<void>) {
  if (trainingNow())
    return st().notify('error', 'a run is already training in this tab: pause or stop it first');
  busy = true;
  try {
    await body();
  } finally {
    busy = false;
  }
}

export function startTraining(opts: { name: string; initAdapterId?: string }) {
  return exclusive(async () => {
    const ds = activeDataset();
    if (!ds) return st().notify('error', 'choose or create a dataset on the Data tab first');
    if (st().modelStatus !== 'ready') return st().notify('error', 'load a model on the Model tab first');
    const bad = Object.entries(st().formErrors);
    if (bad.length)
      return st().notify('error', `fix ${bad.map(([k, v]) => `${k} (${v})`).join(', ')} before starting`);
    await flushDatasets();
    const config: TrainConfig = { ...st().trainForm, valSplit: ds.valSplit };
    await launch(blankRun(opts.name, ds.id), {
      name: opts.name,
      datasetId: ds.id,
      datasetName: ds.name,
      rows: ds.rows,
      config,
      initAdapterId: opts.initAdapterId,
    });
  });
}

/** The step a resume of `run` continues from: its last checkpoint's, or 0 where none was kept. */
export const keptStep = (run: RunRecord) => (run.checkpointId ? (run.checkpointStep ?? run.step) : 0);

/**
 * Continues an interrupted, paused or stopped run from its last checkpoint, with its dataset; `lr` sets
 * the peak learning rate from there on (a run paused on a NaN/Inf step is resumed lower).
 */
export function resumeRun(run: RunRecord, lr?: number) {
  return exclusive(async () => {
    if (st().runsElsewhere.includes(run.id))
      return st().notify('error', `run "${run.name}" is running in another tab of the studio`);
    await flushDatasets(); // the rows as the Data tab shows them
    const ds = await storage.getDataset(await db(), run.datasetId);
    if (!ds) return st().notify('error', `the dataset "${run.datasetName}" of this run was deleted`);
    // the steps after the checkpoint are trained again: the curves start from what is kept
    const kept = keptStep(run);
    const metrics = (await storage.getMetrics(await db(), run.id)).filter((m) => m.step <= kept);
    const live = blankRun(run.name, ds.id);
    live.runId = run.id;
    live.totalSteps = run.totalSteps;
    live.firstStep = kept;
    live.lastCheckpoint = run.checkpointStep ?? null;
    live.metrics = storage.stepMetricsOf(metrics);
    live.val = metrics.filter((m) => m.kind === 'val').map((m) => ({ step: m.step, loss: m.loss }));
    await launch(
      live,
      {
        name: run.name,
        datasetId: ds.id,
        datasetName: ds.name,
        rows: ds.rows,
        config: run.config as Partial<TrainConfig>,
        resumeRunId: run.id,
        ...(lr !== undefined ? { resumeLr: lr } : {}),
      },
      run.status,
    );
  });
}

export const pauseRun = () => {
  const r = liveRun(st());
  if (r) void engine().pause(r.jobId);
};
export const continueRun = () => {
  const r = liveRun(st());
  if (r) void engine().resume(r.jobId);
};
export const stopRun = () => {
  const r = liveRun(st());
  if (r) void engine().cancel(r.jobId);
};

/**
 * The engine worker is gone (a crash, out of memory): the live run becomes interrupted, resumable from its
 * last checkpoint once the model is loaded again. Returns the message shown.
 */
export async function interruptLiveRun(why: string): Promise<string | null> {
  const r = liveRun(st());
  if (!r) return null;
  const kept = r.lastCheckpoint;
  const message =
    `${why}. Run "${r.name}" was interrupted; ` +
    (kept
      ? `its checkpoint of step ${kept} is kept: load the model again, then resume it from the run history.`
      : 'it had no checkpoint yet: Start again in the run history trains it again from step 0.');
  st().patchRun({ status: 'interrupted', message, ended: true });
  if (r.runId) await storage.interruptRun(await db(), r.runId, message).catch(() => undefined);
  await refreshRuns();
  return message;
}

/** Shows a past run's curves in the charts (read-only). */
export async function showRun(run: RunRecord) {
  if (trainingNow()) return;
  const metrics = await storage.getMetrics(await db(), run.id);
  const live = blankRun(run.name, run.datasetId);
  st().setRun({
    ...live,
    jobId: '',
    runId: run.id,
    status: run.status,
    totalSteps: run.totalSteps,
    adapterId: run.adapterId ?? null,
    lastCheckpoint: run.checkpointStep ?? null,
    message: run.error ?? null,
    metrics: storage.stepMetricsOf(metrics),
    val: metrics.filter((m) => m.kind === 'val').map((m) => ({ step: m.step, loss: m.loss })),
  });
}

export async function deleteRun(run: RunRecord) {
  if (liveRun(st())?.runId === run.id)
    return st().notify('error', `run "${run.name}" is training: stop it before deleting it`);
  if (st().runsElsewhere.includes(run.id))
    return st().notify('error', `run "${run.name}" is running in another tab: stop it there first`);
  try {
    await storage.deleteRun(await db(), run.id);
    if (st().run?.runId === run.id) st().setRun(null);
    await refreshRuns();
    await refreshStorage();
  } catch (e) {
    report(e);
  }
}

/** Stops this tab's live run (its checkpoint and adapter are saved as at any stop), then deletes it. */
export async function stopAndDeleteRun(run: RunRecord) {
  if (liveRun(st())?.runId === run.id) {
    stopRun();
    await current;
  }
  await deleteRun(run);
}
