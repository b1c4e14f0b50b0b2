// Workspace backups on fake-indexeddb: everything a user made (datasets, runs with metrics and their
// checkpoint, adapters with files, settings) comes back from one file into an empty browser, merges by id
// into a workspace that has moved on, and a full disk during the import adds nothing.
import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { importWorkspace, exportWorkspace } from './backup';
import { StorageFullError, type DB } from './db';
import { diskFullFor, freshDB } from './testing';
import { createDataset, getDataset, listDatasets, saveDataset } from './datasets';
import { appendMetrics, createRun, getMetrics, getRun, latestCheckpoint, saveCheckpoint } from './runs';
import { getAdapterFiles, listAdapters, saveAdapter } from './adapters';
import { putCachedFile, listCachedModels } from './modelCache';
import { loadSettings, saveSettings } from './settings';

const fresh = () => freshDB('backup-db');

async function workspace(db: DB) {
  const ds = await createDataset(db, 'pairs', [{ instruction: 'Say hi', output: 'Hi!' }], 0.2);
  const run = await createRun(db, {
    name: 'run one',
    model: 'tiny',
    datasetId: ds.id,
    datasetName: ds.name,
    config: { rank: 8 },
    totalSteps: 10,
  });
  await appendMetrics(db, run.id, [
    { runId: run.id, step: 1, kind: 'train', loss: 2.5, lr: 1e-3, time: 1 },
    { runId: run.id, step: 2, kind: 'train', loss: Number.NaN, time: 2 },
  ]);
  const A = new Map([['0.q_proj', new Float32Array([0.25, -1.5, 3])]]);
  await saveCheckpoint(db, run.id, 2, { step: 2, order: [2, 0, 1], lora: { A }, rng: [7, 9] });
  const adapter = await saveAdapter(
    db,
    { name: 'lora', baseModel: 'tiny', rank: 8, alpha: 16, targets: ['q_proj'], origin: 'trained' },
    {
      'adapter_config.json': new TextEncoder().encode('{"r":8}'),
      'adapter_model.safetensors': new Uint8Array([1, 2, 3]),
    },
  );
  await saveSettings(db, { hubEndpoint: 'http://hub.local', hubToken: 'hf_secret', backend: 'wasm' });
  await putCachedFile(db, 'src', 'model.safetensors', new Uint8Array(100));
  return { ds, run, adapter };
}

describe('workspace backup', () => {
  it('restores datasets, runs with metrics and checkpoint, adapters and settings into an empty browser', async () => {
    const a = await fresh();
    const { ds, run, adapter } = await workspace(a);
    const file = await exportWorkspace(a);

    const b = await fresh();
    const sum = await importWorkspace(b, file, 'backup.zip');
    expect(sum).toEqual({
      datasets: { added: 1, updated: 0, unchanged: 0 },
      runs: { added: 1, updated: 0, unchanged: 0 },
      adapters: { added: 1, updated: 0, unchanged: 0 },
    });
    expect((await getDataset(b, ds.id))!.rows).toEqual([{ instruction: 'Say hi', output: 'Hi!' }]);
    const r = (await getRun(b, run.id))!;
    expect([r.name, r.step, r.checkpointStep, r.status]).toEqual(['run one', 2, 2, 'interrupted']);
    const m = await getMetrics(b, run.id);
    expect(m.map((x) => [x.step, x.loss])).toEqual([
      [1, 2.5],
      [2, Number.NaN],
    ]);
    const ck = (await latestCheckpoint(b, run.id))!.data as {
      order: number[];
      lora: { A: Map<string, Float32Array> };
    };
    expect(ck.order).toEqual([2, 0, 1]);
    expect(Array.from(ck.lora.A.get('0.q_proj')!)).toEqual([0.25, -1.5, 3]);
    expect(ck.lora.A.get('0.q_proj')).toBeInstanceOf(Float32Array);
    expect(Array.from((await getAdapterFiles(b, adapter.id))!['adapter_model.safetensors'])).toEqual([
      1, 2, 3,
    ]);
    const s = await loadSettings(b);
    expect([s.hubEndpoint, s.backend, s.hubToken]).toEqual(['http://hub.local', 'wasm', '']);
    expect(await listCachedModels(b)).toEqual([]); // the model cache is not part of a backup
  });

  it('merges by id: newer copies win, new records are added, nothing is duplicated', async () => {
    const a = await fresh();
    const { ds } = await workspace(a);
    const b = await fresh();
    await importWorkspace(b, await exportWorkspace(a));
    // b moves on: an edited dataset and one of its own
    await saveDataset(b, { ...(await getDataset(b, ds.id))!, rows: [{ text: 'edited in b' }] });
    await createDataset(b, 'only in b');
    const sum = await importWorkspace(b, await exportWorkspace(a));
    expect(sum.datasets).toEqual({ added: 0, updated: 0, unchanged: 1 });
    expect(sum.runs.unchanged).toBe(1);
    expect(sum.adapters.unchanged).toBe(1);
    expect((await getDataset(b, ds.id))!.rows).toEqual([{ text: 'edited in b' }]);
    expect((await listDatasets(b)).map((d) => d.name).sort()).toEqual(['only in b', 'pairs']);
    expect(await listAdapters(b)).toHaveLength(1);
    // and the other way: a's older copy is replaced by b's newer one
    const back = await importWorkspace(a, await exportWorkspace(b));
    expect(back.datasets).toEqual({ added: 1, updated: 1, unchanged: 0 });
    expect((await getDataset(a, ds.id))!.rows).toEqual([{ text: 'edited in b' }]);
  });

  it('a full disk during the import adds nothing and says so; a file that is not a backup is refused', async () => {
    const a = await fresh();
    await workspace(a);
    const file = await exportWorkspace(a);
    const b = await fresh();
    const mine = await createDataset(b, 'mine', [{ text: 'keep me' }]);
    diskFullFor('adapterFiles');
    await expect(importWorkspace(b, file)).rejects.toThrow(StorageFullError);
    await expect(importWorkspace(b, file)).rejects.toThrow(
      /browser storage is full: the workspace backup was not saved/,
    );
    diskFullFor(null);
    expect((await listDatasets(b)).map((d) => d.id)).toEqual([mine.id]);
    expect(await b.count('runs')).toBe(0);
    await expect(importWorkspace(b, new TextEncoder().encode('{"rows":[]}'), 'data.json')).rejects.toThrow(
      'not a studio backup: the file is not a zip',
    );
  });
});
