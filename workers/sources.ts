// FileSources the studio adds to the engine's (src/engine/io/source.ts): files the user picked or dropped
// (a local model folder), a folder served by the app itself (the embedded model), and an IndexedDB cache in
// front of a Hub source so a reload does not download again.
import { UserError } from '../src/engine/errors';
import { checkRelativePath, type FileSource, type ProgressFn } from '../src/engine/io/source';
import {
  getCachedFile,
  getModelIndex,
  markModelComplete,
  putCachedFile,
  StorageFullError,
  type DB,
} from '../src/storage';

/** A picked or dropped file with its path inside the chosen folder. */
export interface PickedFile {
  path: string;
  file: File;
}

/** Reads a File in chunks so large weights report progress. */
async function readFile(file: File, onProgress?: ProgressFn): Promise<Uint8Array> {
  const out = new Uint8Array(file.size);
  const reader = file.stream().getReader();
  let n = 0;
  onProgress?.(0, file.size);
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    out.set(value, n);
    n += value.length;
    onProgress?.(n, file.size);
  }
  return out;
}

/** Files of a local folder. Paths are made relative to the folder the user chose (its name is stripped). */
export function pickedSource(files: PickedFile[], label: string): FileSource {
  const byPath = new Map<string, File>();
  const split = files.map((f) => f.path.replace(/^\/+/, '').split('/'));
  // Strip a common top folder (directory pickers report "folder/config.json").
  const top = split.length && split.every((p) => p.length > 1 && p[0] === split[0][0]) ? 1 : 0;
  files.forEach((f, i) => byPath.set(split[i].slice(top).join('/'), f.file));
  const get = (path: string) => {
    const f = byPath.get(checkRelativePath(path, label));
    if (!f) throw new UserError(`${path} not found in the chosen folder`, label);
    return f;
  };
  return {
    label,
    list: async () => [...byPath.keys()].sort(),
    has: async (path) => byPath.has(path),
    size: async (path) => byPath.get(path)?.size,
    text: async (path) => get(path).text(),
    bytes: (path, onProgress) => readFile(get(path), onProgress),
  };
}

/** A folder served over http by the app (no SPA fallback: a missing file answers 404). */
export function urlSource(baseUrl: string, label: string, doFetch: typeof fetch = fetch): FileSource {
  const url = (path: string) => new URL(checkRelativePath(path, label), baseUrl).href;
  const get = async (path: string) => {
    const res = await doFetch(url(path));
    if (!res.ok) throw new UserError(`${path} not found (HTTP ${res.status})`, label);
    return res;
  };
  return {
    label,
    has: async (path) => (await doFetch(url(path), { method: 'HEAD' })).ok,
    size: async (path) => {
      const res = await doFetch(url(path), { method: 'HEAD' });
      const n = Number(res.headers.get('content-length') ?? NaN);
      return res.ok && Number.isSafeInteger(n) ? n : undefined;
    },
    text: async (path) => (await get(path)).text(),
    bytes: async (path, onProgress) => {
      const b = new Uint8Array(await (await get(path)).arrayBuffer());
      onProgress?.(b.length, b.length);
      return b;
    },
  };
}

export interface CachedSource extends FileSource {
  /** Call after a successful load: records which optional files are absent and marks the model complete. */
  finish(): Promise<void>;
  /** Files read from the cache vs downloaded, and whether caching failed for lack of space. */
  readonly stats: { cached: number; downloaded: number; notCached: string | null };
}

/**
 * An IndexedDB cache in front of `inner`. Once a model loaded completely, `has` is answered from the cache
 * index alone, so a reload needs no network at all. A full disk only means "not cached" (reported), never a
 * failed load.
 */
export function cachedSource(inner: FileSource, db: DB, key: string): CachedSource {
  const missing = new Set<string>();
  const stats = { cached: 0, downloaded: 0, notCached: null as string | null };
  const index = () => getModelIndex(db, key);
  const fetchOnce = async (path: string, onProgress?: ProgressFn): Promise<Uint8Array> => {
    const hit = await getCachedFile(db, key, path);
    if (hit) {
      stats.cached++;
      onProgress?.(hit.length, hit.length);
      return hit;
    }
    const bytes = await inner.bytes(path, onProgress);
    stats.downloaded++;
    try {
      await putCachedFile(db, key, path, bytes);
    } catch (e) {
      if (!(e instanceof StorageFullError)) throw e;
      stats.notCached = 'browser storage is full: the model was loaded but not cached for the next visit';
    }
    return bytes;
  };
  return {
    label: inner.label,
    stats,
    has: async (path) => {
      const ix = await index();
      if (ix?.files[path] !== undefined) return true;
      if (ix?.complete && ix.missing?.includes(path)) return false;
      const ok = await inner.has(path);
      if (!ok) missing.add(path);
      return ok;
    },
    size: async (path) => (await index())?.files[path] ?? inner.size?.(path),
    text: async (path) => new TextDecoder().decode(await fetchOnce(path)),
    bytes: fetchOnce,
    finish: async () => {
      if (stats.notCached) return;
      await markModelComplete(db, key, [...missing]).catch(() => undefined);
    },
  };
}
