// Runs under faults on fake-indexeddb: a run another tab owns is never marked interrupted, one whose owner
// is gone is; a resume rewinds the history to the checkpoint's step; a full disk while writing metrics or a
// checkpoint leaves the last good checkpoint, the dataset and the adapters as they were.
import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { StorageFullError, type DB } from './db';
import { diskFullFor, freshDB } from './testing';
import { createDataset, getDataset } from './datasets';
import { listAdapters, saveAdapter } from './adapters';
import {
  appendMetrics,
  createRun,
  getMetrics,
  getRun,
  interruptRun,
  latestCheckpoint,
  markInterruptedRuns,
  rewindRun,
  saveCheckpoint,
  updateRun,
} from './runs';

const fresh = () => freshDB('runs-db');

const run = (db: DB, name: string) =>
  createRun(db, { name, model: 'tiny', datasetId: 'd', datasetName: 'd', config: {}, totalSteps: 10 });
const steps = (runId: string, from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => ({
    runId,
    step: from + i,
    kind: 'train' as const,
    loss: 3 - (from + i) / 10,
    time: 0,
  }));

describe('runs under faults', () => {
  it('two tabs: a run another tab owns stays running; only runs whose owner is gone become interrupted', async () => {
    const db = await fresh();
    const owned = await run(db, 'owned by the other tab');
    const orphan = await run(db, 'its tab was closed');
    await updateRun(db, orphan.id, { status: 'paused' });
    const done = await run(db, 'finished');
    await updateRun(db, done.id, { status: 'done' });
    expect(await markInterruptedRuns(db, (id) => id === owned.id)).toBe(1);
    expect((await getRun(db, owned.id))!.status).toBe('running');
    expect((await getRun(db, orphan.id))!.status).toBe('interrupted');
    expect((await getRun(db, done.id))!.status).toBe('done');
    // the owner goes away later: the watching tab marks it, with the reason
    expect(await interruptRun(db, owned.id, 'the tab that was training it was closed')).toBe(true);
    expect(await getRun(db, owned.id)).toMatchObject({
      status: 'interrupted',
      error: 'the tab that was training it was closed',
    });
    expect(await interruptRun(db, done.id)).toBe(false);
  });

  it('resume: the history and the metrics go back to the checkpoint step', async () => {
    const db = await fresh();
    const r = await run(db, 'r');
    await appendMetrics(db, r.id, steps(r.id, 1, 4));
    await saveCheckpoint(db, r.id, 4, { step: 4 });
    await appendMetrics(db, r.id, steps(r.id, 5, 7)); // trained after the checkpoint, then the tab closed
    await markInterruptedRuns(db);
    const before = (await getRun(db, r.id))!;
    expect([before.step, before.checkpointStep]).toEqual([7, 4]);
    const after = await rewindRun(db, r.id, 4);
    expect(after.step).toBe(4);
    expect((await getMetrics(db, r.id)).map((m) => m.step)).toEqual([1, 2, 3, 4]);
    expect((await latestCheckpoint(db, r.id))!.step).toBe(4);
  });

  it('storage full while writing metrics, a checkpoint or an adapter: the last good checkpoint, the dataset and the adapters stay', async () => {
    const db = await fresh();
    const ds = await createDataset(db, 'pairs', [{ text: 'a' }, { text: 'b' }]);
    const r = await run(db, 'r');
    await appendMetrics(db, r.id, steps(r.id, 1, 2));
    await saveCheckpoint(db, r.id, 2, { lora: new Float32Array([1, 2]) });
    const kept = await saveAdapter(
      db,
      { name: 'earlier', baseModel: 'tiny', rank: 8, alpha: 16, targets: ['q_proj'], origin: 'trained' },
      { 'adapter_model.safetensors': new Uint8Array([9]) },
    );

    diskFullFor('metrics');
    await expect(appendMetrics(db, r.id, steps(r.id, 3, 3))).rejects.toThrow(
      'browser storage is full: training metrics was not saved; what was stored before is unchanged',
    );
    diskFullFor('checkpoints');
    await expect(saveCheckpoint(db, r.id, 3, { lora: new Float32Array([3, 4]) })).rejects.toThrow(
      /browser storage is full: checkpoint at step 3 was not saved/,
    );
    diskFullFor('adapterFiles');
    await expect(
      saveAdapter(
        db,
        { name: 'new', baseModel: 'tiny', rank: 8, alpha: 16, targets: ['q_proj'], origin: 'trained' },
        { 'adapter_model.safetensors': new Uint8Array([1]) },
      ),
    ).rejects.toBeInstanceOf(StorageFullError);

    const ck = (await latestCheckpoint(db, r.id))!;
    expect([ck.step, Array.from((ck.data as { lora: Float32Array }).lora)]).toEqual([2, [1, 2]]);
    expect((await getRun(db, r.id))!).toMatchObject({ step: 2, checkpointStep: 2 });
    expect((await getMetrics(db, r.id)).map((m) => m.step)).toEqual([1, 2]);
    expect((await getDataset(db, ds.id))!.rows).toEqual([{ text: 'a' }, { text: 'b' }]);
    expect((await listAdapters(db)).map((a) => a.id)).toEqual([kept.id]);
  });
});
