// IndexedDB storage on fake-indexeddb: datasets, settings, runs with metrics, atomic checkpoints,
// adapters, the model-file cache, and quota failures that must leave earlier data untouched.
import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { StorageFullError, type DB } from './db';
import { diskFullFor, freshDB } from './testing';
import { createDataset, deleteDataset, getDataset, listDatasets, saveDataset } from './datasets';
import {
  appendMetrics,
  createRun,
  deleteRun,
  getMetrics,
  getRun,
  latestCheckpoint,
  markInterruptedRuns,
  saveCheckpoint,
  updateRun,
} from './runs';
import { deleteAdapter, getAdapterFiles, listAdapters, renameAdapter, saveAdapter } from './adapters';
import {
  deleteCachedModel,
  getCachedFile,
  getModelIndex,
  hubCacheKey,
  listCachedModels,
  markModelComplete,
  putCachedFile,
} from './modelCache';
import { loadSettings, saveSettings } from './settings';

const fresh = () => freshDB('test-db');

const newRun = (db: DB) =>
  createRun(db, {
    name: 'r',
    model: 'tiny',
    datasetId: 'd',
    datasetName: 'd',
    config: { rank: 8 },
    totalSteps: 10,
  });

describe('datasets', () => {
  it('creates, edits, lists and deletes named datasets', async () => {
    const db = await fresh();
    const a = await createDataset(db, 'alpaca', [{ instruction: 'hi', output: 'hello' }], 0.1);
    await createDataset(db, 'chat', [{ messages: [{ role: 'user', content: 'x' }] }]);
    expect((await listDatasets(db)).map((d) => d.name)).toEqual(['alpaca', 'chat']);
    await saveDataset(db, { ...a, rows: [...a.rows, { instruction: 'a', output: 'b' }] });
    expect((await getDataset(db, a.id))!.rows).toHaveLength(2);
    await deleteDataset(db, a.id);
    expect(await listDatasets(db)).toHaveLength(1);
  });

  it('a quota error is a StorageFullError and the old rows stay', async () => {
    const db = await fresh();
    const a = await createDataset(db, 'd', [{ text: 'one' }]);
    diskFullFor('datasets');
    await expect(saveDataset(db, { ...a, rows: [] })).rejects.toBeInstanceOf(StorageFullError);
    expect((await getDataset(db, a.id))!.rows).toEqual([{ text: 'one' }]);
  });
});

describe('settings', () => {
  it('has defaults and keeps what is saved', async () => {
    const db = await fresh();
    expect((await loadSettings(db)).hubEndpoint).toBe('https://huggingface.co');
    await saveSettings(db, { hubEndpoint: 'http://127.0.0.1:9', hubToken: 'hf_x' });
    const s = await loadSettings(db);
    expect([s.hubEndpoint, s.hubToken, s.backend]).toEqual(['http://127.0.0.1:9', 'hf_x', 'auto']);
  });
});

describe('runs and checkpoints', () => {
  it('appends metrics in step order and advances the run', async () => {
    const db = await fresh();
    const run = await newRun(db);
    await appendMetrics(db, run.id, [
      { runId: run.id, step: 2, kind: 'train', loss: 2, time: 0 },
      { runId: run.id, step: 1, kind: 'train', loss: 3, lr: 1e-4, time: 0 },
    ]);
    await appendMetrics(db, run.id, [{ runId: run.id, step: 2, kind: 'val', loss: 2.5, time: 0 }]);
    expect((await getMetrics(db, run.id)).map((m) => [m.kind, m.step])).toEqual([
      ['train', 1],
      ['train', 2],
      ['val', 2],
    ]);
    const r = (await getRun(db, run.id))!;
    expect([r.step, r.lastLoss, r.lastValLoss]).toEqual([2, 3, 2.5]);
  });

  it('switches the checkpoint pointer and drops the old record only after the new one is stored', async () => {
    const db = await fresh();
    const run = await newRun(db);
    const c1 = await saveCheckpoint(db, run.id, 5, { a: new Float32Array([1, 2]) });
    const c2 = await saveCheckpoint(db, run.id, 10, { a: new Float32Array([3, 4]) });
    const latest = (await latestCheckpoint(db, run.id))!;
    expect(latest.id).toBe(c2.id);
    expect(Array.from((latest.data as { a: Float32Array }).a)).toEqual([3, 4]);
    expect(await db.get('checkpoints', c1.id)).toBeUndefined();

    diskFullFor('checkpoints');
    await expect(saveCheckpoint(db, run.id, 15, { a: new Float32Array([5]) })).rejects.toBeInstanceOf(
      StorageFullError,
    );
    expect((await latestCheckpoint(db, run.id))!.step).toBe(10);
    expect(await db.count('checkpoints')).toBe(1);
  });

  it('marks runs left running as interrupted and deletes a run with its records', async () => {
    const db = await fresh();
    const run = await newRun(db);
    await updateRun(db, run.id, { status: 'paused' });
    await saveCheckpoint(db, run.id, 1, {});
    await appendMetrics(db, run.id, [{ runId: run.id, step: 1, kind: 'train', loss: 1, time: 0 }]);
    expect(await markInterruptedRuns(db)).toBe(1);
    expect((await getRun(db, run.id))!.status).toBe('interrupted');
    await deleteRun(db, run.id);
    expect([await db.count('runs'), await db.count('metrics'), await db.count('checkpoints')]).toEqual([
      0, 0, 0,
    ]);
  });
});

describe('adapters', () => {
  it('saves metadata and files together; renames; deletes both', async () => {
    const db = await fresh();
    const files = {
      'adapter_config.json': new TextEncoder().encode('{}'),
      'adapter_model.safetensors': new Uint8Array(16),
    };
    const a = await saveAdapter(
      db,
      { name: 'lora', baseModel: 'tiny', rank: 8, alpha: 16, targets: ['q_proj'], origin: 'trained' },
      files,
    );
    expect(a.size).toBe(18);
    await renameAdapter(db, a.id, 'better');
    expect((await listAdapters(db))[0].name).toBe('better');
    expect(Object.keys((await getAdapterFiles(db, a.id))!)).toEqual(Object.keys(files));
    await deleteAdapter(db, a.id);
    expect([await db.count('adapters'), await db.count('adapterFiles')]).toEqual([0, 0]);
  });

  it('a failed file write saves no metadata either', async () => {
    const db = await fresh();
    diskFullFor('adapterFiles');
    await expect(
      saveAdapter(
        db,
        { name: 'x', baseModel: 'b', rank: 1, alpha: 1, targets: [], origin: 'imported' },
        { f: new Uint8Array(1) },
      ),
    ).rejects.toBeInstanceOf(StorageFullError);
    expect(await db.count('adapters')).toBe(0);
  });
});

describe('model cache', () => {
  it('stores files per source, lists sizes, deletes a source', async () => {
    const db = await fresh();
    const src = hubCacheKey('https://huggingface.co/', 'org/m');
    expect(src).toBe('https://huggingface.co|org/m|main');
    await putCachedFile(db, src, 'config.json', new Uint8Array([1, 2, 3]));
    await putCachedFile(db, src, 'model.safetensors', new Uint8Array(10));
    await putCachedFile(db, 'other', 'config.json', new Uint8Array(1));
    expect(Array.from((await getCachedFile(db, src, 'config.json'))!)).toEqual([1, 2, 3]);
    expect(await listCachedModels(db)).toContainEqual({ source: src, files: 2, bytes: 13, complete: false });
    await markModelComplete(db, src, ['chat_template.jinja']);
    expect((await getModelIndex(db, src))!.missing).toEqual(['chat_template.jinja']);
    expect((await listCachedModels(db)).find((m) => m.source === src)!.complete).toBe(true);
    await deleteCachedModel(db, src);
    expect(await getCachedFile(db, src, 'config.json')).toBeUndefined();
    expect((await listCachedModels(db)).map((m) => m.source)).toEqual(['other']);
  });
});
