// The studio's IndexedDB schema (idb): one database shared by the page and the engine worker.
// Records hold ids, JSON and bytes only (never GPU tensors). Every write goes through `write`, which
// turns a full disk into a StorageFullError: the failed transaction aborts, so earlier data is untouched.
import { openDB, type DBSchema, type IDBPDatabase, type IDBPTransaction } from 'idb';
import { UserError } from '../engine/errors';

export const DB_NAME = 'lora-studio';
export const DB_VERSION = 1;

/** A dataset row as the user imported or typed it (any of the formats src/data detects). */
export type DataRow = Record<string, unknown>;

export interface DatasetRecord {
  id: string;
  name: string;
  rows: DataRow[];
  /** Fraction of rows held out for validation. */
  valSplit: number;
  createdAt: number;
  updatedAt: number;
}

export type RunStatus = 'running' | 'paused' | 'stopped' | 'done' | 'failed' | 'interrupted';

export interface RunRecord {
  id: string;
  name: string;
  /** Model label, e.g. a Hub repo id or "local: folder". */
  model: string;
  datasetId: string;
  datasetName: string;
  /** The resolved TrainConfig (plain JSON). */
  config: Record<string, unknown>;
  status: RunStatus;
  totalSteps: number;
  /** Last completed optimizer step. */
  step: number;
  lastLoss?: number;
  lastValLoss?: number;
  /** Pointer to the run's last good checkpoint; switched only after the new one is stored. */
  checkpointId?: string;
  /** Step of that checkpoint: what a resume keeps. */
  checkpointStep?: number;
  adapterId?: string;
  error?: string;
  startedAt: number;
  updatedAt: number;
}

/** One optimizer step (train) or one evaluation (val), as the trainer reports it. */
export interface MetricRecord {
  runId: string;
  step: number;
  kind: 'train' | 'val';
  loss: number;
  lr?: number;
  grad_norm?: number;
  tokens?: number;
  ms?: number;
  time: number;
}

export interface CheckpointRecord {
  id: string;
  runId: string;
  step: number;
  createdAt: number;
  /** The trainer's checkpoint, structured-cloneable (typed arrays and JSON). */
  data: unknown;
}

export interface AdapterRecord {
  id: string;
  name: string;
  baseModel: string;
  rank: number;
  alpha: number;
  targets: string[];
  datasetName?: string;
  steps?: number;
  finalLoss?: number;
  finalValLoss?: number;
  runId?: string;
  /** 'trained' here or 'imported' from a PEFT folder/zip. */
  origin: 'trained' | 'imported';
  createdAt: number;
  /** Total bytes of the adapter files. */
  size: number;
}

/** A PEFT adapter's files, stored apart from the metadata so listing stays cheap. */
export interface AdapterFilesRecord {
  id: string;
  files: Record<string, Uint8Array>;
}

export interface ModelFileRecord {
  /** `${source}\n${path}` */
  key: string;
  /** Cache key of the model, e.g. "https://huggingface.co|org/name|main". */
  source: string;
  path: string;
  size: number;
  bytes: Uint8Array;
  storedAt: number;
}

export interface StudioDB extends DBSchema {
  settings: { key: string; value: unknown };
  datasets: { key: string; value: DatasetRecord };
  runs: { key: string; value: RunRecord };
  metrics: { key: [string, string, number]; value: MetricRecord; indexes: { runId: string } };
  checkpoints: { key: string; value: CheckpointRecord; indexes: { runId: string } };
  adapters: { key: string; value: AdapterRecord };
  adapterFiles: { key: string; value: AdapterFilesRecord };
  modelFiles: { key: string; value: ModelFileRecord; indexes: { source: string } };
  /** Per model source: file sizes, so listing the cache never reads the bytes. */
  modelIndex: { key: string; value: ModelIndexRecord };
}

export interface ModelIndexRecord {
  source: string;
  files: Record<string, number>;
  /** Optional files the source does not have (so a cached model loads without any network request). */
  missing?: string[];
  /** Every file a load needed is cached. */
  complete?: boolean;
  updatedAt: number;
}

export type DB = IDBPDatabase<StudioDB>;
export type StoreName =
  | 'settings'
  | 'datasets'
  | 'runs'
  | 'metrics'
  | 'checkpoints'
  | 'adapters'
  | 'adapterFiles'
  | 'modelFiles'
  | 'modelIndex';

export class StorageFullError extends UserError {
  override name = 'StorageFullError';
  constructor(what: string) {
    super(
      `browser storage is full: ${what} was not saved; what was stored before is unchanged. ` +
        'Free space under Adapters & Export → Storage (cached models, old runs) and try again.',
    );
  }
}

const isQuotaError = (e: unknown) =>
  e instanceof Error &&
  (e.name === 'QuotaExceededError' || (e.name === 'AbortError' && /quota/i.test(e.message)));

let dbPromise: Promise<DB> | undefined;

/** Opens (once per realm) the studio database, creating or upgrading its stores. */
export function openStudioDB(name = DB_NAME): Promise<DB> {
  if (dbPromise && name === DB_NAME) return dbPromise;
  const p = openDB<StudioDB>(name, DB_VERSION, {
    upgrade(db) {
      db.createObjectStore('settings');
      db.createObjectStore('datasets', { keyPath: 'id' });
      db.createObjectStore('runs', { keyPath: 'id' });
      const metrics = db.createObjectStore('metrics', { keyPath: ['runId', 'kind', 'step'] });
      metrics.createIndex('runId', 'runId');
      const ckpt = db.createObjectStore('checkpoints', { keyPath: 'id' });
      ckpt.createIndex('runId', 'runId');
      db.createObjectStore('adapters', { keyPath: 'id' });
      db.createObjectStore('adapterFiles', { keyPath: 'id' });
      const files = db.createObjectStore('modelFiles', { keyPath: 'key' });
      files.createIndex('source', 'source');
      db.createObjectStore('modelIndex', { keyPath: 'source' });
    },
    blocking() {
      // Another tab wants a newer schema: let it upgrade; this realm reopens on next use.
      void p.then((db) => db.close());
      dbPromise = undefined;
    },
  });
  if (name === DB_NAME) dbPromise = p;
  return p;
}

/** For tests: forget the cached connection. */
export function resetStudioDBCache() {
  dbPromise = undefined;
}

/**
 * Runs `body` in one readwrite transaction over `stores` and waits for it to commit. A quota error
 * (thrown by a request or reported when the transaction aborts) becomes a StorageFullError.
 */
export async function write<T>(
  db: DB,
  stores: StoreName[],
  what: string,
  body: (tx: IDBPTransaction<StudioDB, StoreName[], 'readwrite'>) => Promise<T>,
): Promise<T> {
  const tx = db.transaction(stores, 'readwrite');
  try {
    const result = await body(tx);
    await tx.done;
    return result;
  } catch (e) {
    try {
      tx.abort();
    } catch {
      /* already finished */
    }
    await tx.done.catch(() => undefined);
    const err = tx.error ?? e;
    if (isQuotaError(err) || isQuotaError(e)) throw new StorageFullError(what);
    throw e;
  }
}

let lastTime = 0;
/** Date.now(), strictly increasing within this realm, so records created in one millisecond keep their order. */
export function stamp(): number {
  lastTime = Math.max(Date.now(), lastTime + 1);
  return lastTime;
}

export const newId = (prefix: string) =>
  `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
