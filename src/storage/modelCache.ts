// Cached model files (config, tokenizer, safetensors) keyed by model source and path, so a reload does
// not download again. A failed write (quota) only means the file is not cached: loading still succeeds.
// Weights files live in OPFS (opfs.ts); the index here lists them with their sizes all the same.
import { write, type DB, type ModelFileRecord } from './db';
import { removeModelFiles } from './opfs';

const fileKey = (source: string, path: string) => `${source}\n${path}`;

/** Cache key for a Hub model: endpoint, repo and revision. */
export const hubCacheKey = (endpoint: string, repo: string, revision = 'main') =>
  `${endpoint.replace(/\/+$/, '')}|${repo}|${revision}`;

export async function getCachedFile(db: DB, source: string, path: string): Promise<Uint8Array | undefined> {
  return (await db.get('modelFiles', fileKey(source, path)))?.bytes;
}

export async function putCachedFile(db: DB, source: string, path: string, bytes: Uint8Array): Promise<void> {
  const rec: ModelFileRecord = {
    key: fileKey(source, path),
    source,
    path,
    size: bytes.byteLength,
    bytes,
    storedAt: Date.now(),
  };
  await write(db, ['modelFiles', 'modelIndex'], `model file ${path}`, async (tx) => {
    await tx.objectStore('modelFiles').put(rec);
    const index = tx.objectStore('modelIndex');
    const cur = (await index.get(source)) ?? { source, files: {}, updatedAt: 0 };
    await index.put({ ...cur, files: { ...cur.files, [path]: rec.size }, updatedAt: rec.storedAt });
  });
}

/** Lists a file stored outside IndexedDB (a weights file in OPFS) in the model's index: it is complete. */
export async function recordCachedFile(db: DB, source: string, path: string, size: number): Promise<void> {
  await write(db, ['modelIndex'], `model file ${path}`, async (tx) => {
    const index = tx.objectStore('modelIndex');
    const cur = (await index.get(source)) ?? { source, files: {}, updatedAt: 0 };
    await index.put({ ...cur, files: { ...cur.files, [path]: size }, updatedAt: Date.now() });
  });
}

export const getModelIndex = (db: DB, source: string) => db.get('modelIndex', source);

/** After a load from `source` succeeded: every needed file is cached; `missing` lists absent optional files. */
export async function markModelComplete(db: DB, source: string, missing: string[]): Promise<void> {
  await write(db, ['modelIndex'], 'model cache index', async (tx) => {
    const index = tx.objectStore('modelIndex');
    const cur = await index.get(source);
    if (cur) await index.put({ ...cur, missing, complete: true, updatedAt: Date.now() });
  });
}

export interface CachedModel {
  source: string;
  files: number;
  bytes: number;
  complete: boolean;
}

/** Models in the cache with their file count and size (from the index, never reading the bytes). */
export async function listCachedModels(db: DB): Promise<CachedModel[]> {
  return (await db.getAll('modelIndex')).map((m) => ({
    source: m.source,
    files: Object.keys(m.files).length,
    bytes: Object.values(m.files).reduce((a, b) => a + b, 0),
    complete: m.complete === true,
  }));
}

export async function deleteCachedModel(db: DB, source: string): Promise<void> {
  await write(db, ['modelFiles', 'modelIndex'], 'cache deletion', async (tx) => {
    const store = tx.objectStore('modelFiles');
    for (const key of await store.index('source').getAllKeys(source)) await store.delete(key);
    await tx.objectStore('modelIndex').delete(source);
  });
  await removeModelFiles(source);
}
