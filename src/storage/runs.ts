// Training runs: config, status and metrics, plus checkpoints written atomically (the new record and the
// run's pointer switch commit in one transaction; the old checkpoint is dropped only after that), so a
// crash or a full disk never leaves a run without its last good checkpoint.
import type { StepMetrics } from '../engine/train/trainer';
import { newId, stamp, write, type CheckpointRecord, type DB, type MetricRecord, type RunRecord } from './db';

export type NewRun = Omit<RunRecord, 'id' | 'startedAt' | 'updatedAt' | 'step' | 'status'> & {
  status?: RunRecord['status'];
};

export async function createRun(db: DB, run: NewRun): Promise<RunRecord> {
  const now = stamp();
  const rec: RunRecord = {
    status: 'running',
    ...run,
    id: newId('run'),
    step: 0,
    startedAt: now,
    updatedAt: now,
  };
  await write(db, ['runs'], `run "${rec.name}"`, async (tx) => {
    await tx.objectStore('runs').add(rec);
  });
  return rec;
}

export async function listRuns(db: DB): Promise<RunRecord[]> {
  return (await db.getAll('runs')).sort((a, b) => b.startedAt - a.startedAt);
}

export const getRun = (db: DB, id: string) => db.get('runs', id);

/** Merges `patch` into the stored run (read and write in one transaction). */
export async function updateRun(db: DB, id: string, patch: Partial<RunRecord>): Promise<RunRecord> {
  return write(db, ['runs'], 'run status', async (tx) => {
    const store = tx.objectStore('runs');
    const cur = await store.get(id);
    if (!cur) throw new Error(`run ${id} not found`);
    const next = { ...cur, ...patch, id, updatedAt: stamp() };
    await store.put(next);
    return next;
  });
}

/** Appends metrics (one record per step and kind) and advances the run's step/loss in the same commit. */
export async function appendMetrics(db: DB, runId: string, metrics: MetricRecord[]): Promise<void> {
  if (metrics.length === 0) return;
  await write(db, ['metrics', 'runs'], 'training metrics', async (tx) => {
    const ms = tx.objectStore('metrics');
    for (const m of metrics) await ms.put({ ...m, runId });
    const runs = tx.objectStore('runs');
    const run = await runs.get(runId);
    if (!run) return;
    for (const m of metrics) {
      if (m.kind === 'train') {
        run.step = Math.max(run.step, m.step);
        run.lastLoss = m.loss;
      } else run.lastValLoss = m.loss;
    }
    run.updatedAt = stamp();
    await runs.put(run);
  });
}

/** The stored record of one optimizer step's metrics (the one mapping; `stepMetricsOf` reads it back). */
export const trainMetricRecord = (runId: string, m: StepMetrics): MetricRecord => ({
  ...m,
  runId,
  kind: 'train',
  time: Date.now(),
});

/** The optimizer steps among stored metrics, as the trainer reported them. */
export const stepMetricsOf = (records: MetricRecord[]): StepMetrics[] =>
  records
    .filter((m) => m.kind === 'train')
    .map((m) => ({
      step: m.step,
      loss: m.loss,
      lr: m.lr ?? 0,
      grad_norm: m.grad_norm ?? 0,
      tokens: m.tokens ?? 0,
      ms: m.ms ?? 0,
    }));

export async function getMetrics(db: DB, runId: string): Promise<MetricRecord[]> {
  const all = await db.getAllFromIndex('metrics', 'runId', runId);
  return all.sort((a, b) => a.step - b.step);
}

/**
 * Stores a checkpoint and points the run at it. New record first, then the pointer, then the old record
 * is deleted, all in one transaction: if anything fails (quota), the run keeps its previous checkpoint.
 */
export async function saveCheckpoint(
  db: DB,
  runId: string,
  step: number,
  data: unknown,
): Promise<CheckpointRecord> {
  const rec: CheckpointRecord = { id: newId('ckpt'), runId, step, createdAt: stamp(), data };
  await write(db, ['checkpoints', 'runs'], `checkpoint at step ${step}`, async (tx) => {
    const runs = tx.objectStore('runs');
    const run = await runs.get(runId);
    if (!run) throw new Error(`run ${runId} not found`);
    await tx.objectStore('checkpoints').add(rec);
    const old = run.checkpointId;
    await runs.put({ ...run, checkpointId: rec.id, checkpointStep: step, updatedAt: stamp() });
    if (old) await tx.objectStore('checkpoints').delete(old);
  });
  return rec;
}

/** The checkpoint the run points at (its last good one), if any. */
export async function latestCheckpoint(db: DB, runId: string): Promise<CheckpointRecord | undefined> {
  const run = await db.get('runs', runId);
  return run?.checkpointId ? db.get('checkpoints', run.checkpointId) : undefined;
}

/** Deletes a run with its metrics and checkpoints (its adapter, if saved, stays in the library). */
export async function deleteRun(db: DB, runId: string): Promise<void> {
  await write(db, ['runs', 'metrics', 'checkpoints'], 'run deletion', async (tx) => {
    await tx.objectStore('runs').delete(runId);
    const ms = tx.objectStore('metrics');
    for (const key of await ms.index('runId').getAllKeys(runId)) await ms.delete(key);
    const cs = tx.objectStore('checkpoints');
    for (const key of await cs.index('runId').getAllKeys(runId)) await cs.delete(key);
  });
}

/** The Web Lock a tab's engine holds while it owns a run (running or paused there). */
export const runLockName = (runId: string) => `lora-studio-run:${runId}`;

/** A run that is running or paused in some tab, as opposed to finished, failed or left behind. */
export const isLiveStatus = (s: RunRecord['status']) => s === 'running' || s === 'paused';

/**
 * Runs left 'running' or 'paused' whose owner is gone (a closed or crashed tab) become 'interrupted'
 * (resumable from their last checkpoint); runs that `owned` says another tab still holds are left alone.
 */
export async function markInterruptedRuns(
  db: DB,
  owned: (runId: string) => boolean = () => false,
  error?: string,
): Promise<number> {
  return write(db, ['runs'], 'run status', async (tx) => {
    const store = tx.objectStore('runs');
    let n = 0;
    for (const run of await store.getAll()) {
      if (isLiveStatus(run.status) && !owned(run.id)) {
        await store.put({ ...run, status: 'interrupted', ...(error ? { error } : {}), updatedAt: stamp() });
        n++;
      }
    }
    return n;
  });
}

/** Marks one run 'interrupted' if it is still running or paused (its owner is gone); says whether it did. */
export async function interruptRun(db: DB, runId: string, error?: string): Promise<boolean> {
  return write(db, ['runs'], 'run status', async (tx) => {
    const store = tx.objectStore('runs');
    const run = await store.get(runId);
    if (!run || !isLiveStatus(run.status)) return false;
    await store.put({ ...run, status: 'interrupted', ...(error ? { error } : {}), updatedAt: stamp() });
    return true;
  });
}

/**
 * Before a run continues from its checkpoint: the metrics of steps after it are dropped (they will be
 * trained again) and the run's step is the checkpoint's, so the history and the progress agree.
 */
export async function rewindRun(db: DB, runId: string, step: number): Promise<RunRecord> {
  return write(db, ['runs', 'metrics'], 'run status', async (tx) => {
    const ms = tx.objectStore('metrics');
    for (const key of await ms.index('runId').getAllKeys(runId)) if (key[2] > step) await ms.delete(key);
    const runs = tx.objectStore('runs');
    const run = await runs.get(runId);
    if (!run) throw new Error(`run ${runId} not found`);
    const next = { ...run, step, updatedAt: stamp() };
    await runs.put(next);
    return next;
  });
}
