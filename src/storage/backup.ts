// Workspace backups: browsers may evict site data, so the whole workspace (datasets, runs with metrics and
// their last checkpoints, adapters with their files, settings) goes into one zip and comes back from it,
// merged by id. Not included: the model cache (downloads again) and the Hub access token (a secret).
// Zip layout: workspace.json (records; binary parts replaced by references) and the bytes under blobs/.
import { unzipSync, zipSync } from 'fflate';
import { UserError } from '../engine/errors';
import {
  write,
  type AdapterRecord,
  type CheckpointRecord,
  type DatasetRecord,
  type DB,
  type MetricRecord,
  type RunRecord,
} from './db';

export const BACKUP_FORMAT = 'lora-studio-workspace';
const VERSION = 1;

interface Workspace {
  format: typeof BACKUP_FORMAT;
  version: number;
  createdAt: number;
  settings: Record<string, unknown>;
  datasets: DatasetRecord[];
  runs: RunRecord[];
  metrics: MetricRecord[];
  checkpoints: CheckpointRecord[];
  adapters: AdapterRecord[];
  adapterFiles: { id: string; files: Record<string, Uint8Array> }[];
}

/** Settings never written to a backup. */
const SECRET_SETTINGS = ['hubToken'];

const TYPED = {
  Float32Array,
  Float64Array,
  Int32Array,
  Uint32Array,
  Int16Array,
  Uint16Array,
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  BigInt64Array,
  BigUint64Array,
} as const;
type TypedName = keyof typeof TYPED;

/** Replaces bytes, Maps and non-finite numbers by JSON-safe references; bytes go to `blobs`. */
function encode(v: unknown, blobs: Uint8Array[]): unknown {
  if (typeof v === 'number' && !Number.isFinite(v)) return { $num: String(v) };
  if (v === null || typeof v !== 'object') return v;
  if (ArrayBuffer.isView(v)) {
    const name = v.constructor.name as TypedName;
    if (!(name in TYPED)) throw new Error(`cannot back up a ${name}`);
    blobs.push(new Uint8Array(v.buffer.slice(v.byteOffset, v.byteOffset + v.byteLength)));
    return { $typed: name, blob: blobs.length - 1 };
  }
  if (v instanceof ArrayBuffer) {
    blobs.push(new Uint8Array(v.slice(0)));
    return { $buffer: blobs.length - 1 };
  }
  if (v instanceof Map) return { $map: [...v].map(([k, x]) => [encode(k, blobs), encode(x, blobs)]) };
  if (Array.isArray(v)) return v.map((x) => encode(x, blobs));
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, encode(x, blobs)]));
}

function decode(v: unknown, blob: (i: number) => Uint8Array): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map((x) => decode(x, blob));
  const o = v as Record<string, unknown>;
  if (typeof o.$num === 'string') return Number(o.$num);
  if (typeof o.$typed === 'string' && typeof o.blob === 'number') {
    const Ctor = TYPED[o.$typed as TypedName];
    if (!Ctor) throw new UserError(`not a studio backup: unknown array type ${o.$typed}`);
    const b = blob(o.blob).slice();
    return new Ctor(b.buffer, 0, b.byteLength / Ctor.BYTES_PER_ELEMENT);
  }
  if (typeof o.$buffer === 'number') return blob(o.$buffer).slice().buffer;
  if (Array.isArray(o.$map))
    return new Map((o.$map as [unknown, unknown][]).map(([k, x]) => [decode(k, blob), decode(x, blob)]));
  return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, decode(x, blob)]));
}

/** The whole workspace as one zip file's bytes. */
export async function exportWorkspace(db: DB): Promise<Uint8Array> {
  const settings: Record<string, unknown> = {};
  for (const k of await db.getAllKeys('settings'))
    if (!SECRET_SETTINGS.includes(k)) settings[k] = await db.get('settings', k);
  const runs = await db.getAll('runs');
  const kept = new Set(runs.map((r) => r.checkpointId).filter(Boolean));
  const ws: Workspace = {
    format: BACKUP_FORMAT,
    version: VERSION,
    createdAt: Date.now(),
    settings,
    datasets: await db.getAll('datasets'),
    runs,
    metrics: await db.getAll('metrics'),
    // only the checkpoint each run points at (its last good one)
    checkpoints: (await db.getAll('checkpoints')).filter((c) => kept.has(c.id)),
    adapters: await db.getAll('adapters'),
    adapterFiles: await db.getAll('adapterFiles'),
  };
  const blobs: Uint8Array[] = [];
  const json = JSON.stringify(encode(ws, blobs));
  const files: Record<string, Uint8Array> = { 'workspace.json': new TextEncoder().encode(json) };
  blobs.forEach((b, i) => (files[`blobs/${i}.bin`] = b));
  return zipSync(files, { level: 0 });
}

export interface MergeCount {
  added: number;
  updated: number;
  unchanged: number;
}
export interface ImportSummary {
  datasets: MergeCount;
  runs: MergeCount;
  adapters: MergeCount;
}

function readWorkspace(bytes: Uint8Array, fileName: string): Workspace {
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(bytes);
  } catch {
    throw new UserError('not a studio backup: the file is not a zip', fileName);
  }
  const json = files['workspace.json'];
  if (!json) throw new UserError('not a studio backup: there is no workspace.json in it', fileName);
  const blob = (i: number) => {
    const b = files[`blobs/${i}.bin`];
    if (!b) throw new UserError(`the backup is damaged: blobs/${i}.bin is missing`, fileName);
    return b;
  };
  const ws = decode(JSON.parse(new TextDecoder().decode(json)), blob) as Workspace;
  if (ws.format !== BACKUP_FORMAT) throw new UserError('not a studio backup (workspace.json)', fileName);
  if (ws.version > VERSION)
    throw new UserError(`this backup is from a newer studio (version ${ws.version})`, fileName);
  return ws;
}

const count = (): MergeCount => ({ added: 0, updated: 0, unchanged: 0 });

/**
 * Merges a backup into the workspace by id: a record missing here is added, one present in both is
 * replaced only when the backup's copy is newer (updatedAt); adapters never change, so present ones
 * stay. A run comes with its metrics and checkpoint. One transaction: a full disk adds nothing.
 */
export async function importWorkspace(
  db: DB,
  bytes: Uint8Array,
  fileName = 'backup',
): Promise<ImportSummary> {
  const ws = readWorkspace(bytes, fileName);
  const sum: ImportSummary = { datasets: count(), runs: count(), adapters: count() };
  const stores = [
    'settings',
    'datasets',
    'runs',
    'metrics',
    'checkpoints',
    'adapters',
    'adapterFiles',
  ] as const;
  await write(db, [...stores], 'the workspace backup', async (tx) => {
    const settings = tx.objectStore('settings');
    const haveKeys = new Set(await settings.getAllKeys());
    for (const [k, v] of Object.entries(ws.settings ?? {}))
      if (!haveKeys.has(k) && !SECRET_SETTINGS.includes(k)) await settings.put(v, k);

    const datasets = tx.objectStore('datasets');
    for (const d of ws.datasets ?? []) {
      const cur = await datasets.get(d.id);
      if (cur && cur.updatedAt >= d.updatedAt) sum.datasets.unchanged++;
      else {
        await datasets.put(d);
        sum.datasets[cur ? 'updated' : 'added']++;
      }
    }

    const runs = tx.objectStore('runs');
    const metrics = tx.objectStore('metrics');
    const checkpoints = tx.objectStore('checkpoints');
    for (const r of ws.runs ?? []) {
      const cur = await runs.get(r.id);
      if (cur && cur.updatedAt >= r.updatedAt) {
        sum.runs.unchanged++;
        continue;
      }
      // a run that was live when backed up has no owner here: it comes back resumable
      const status = r.status === 'running' || r.status === 'paused' ? 'interrupted' : r.status;
      if (cur) {
        for (const key of await metrics.index('runId').getAllKeys(r.id)) await metrics.delete(key);
        for (const key of await checkpoints.index('runId').getAllKeys(r.id)) await checkpoints.delete(key);
      }
      for (const m of ws.metrics ?? []) if (m.runId === r.id) await metrics.put(m);
      for (const c of ws.checkpoints ?? []) if (c.runId === r.id) await checkpoints.put(c);
      await runs.put({ ...r, status });
      sum.runs[cur ? 'updated' : 'added']++;
    }

    const adapters = tx.objectStore('adapters');
    const adapterFiles = tx.objectStore('adapterFiles');
    const filesOf = new Map((ws.adapterFiles ?? []).map((f) => [f.id, f]));
    for (const a of ws.adapters ?? []) {
      const files = filesOf.get(a.id);
      if ((await adapters.get(a.id)) || !files) {
        sum.adapters.unchanged++;
        continue;
      }
      await adapterFiles.put(files);
      await adapters.put(a);
      sum.adapters.added++;
    }
  });
  return sum;
}
