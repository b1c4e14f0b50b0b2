// FileSources the studio adds to the engine's (src/engine/io/source.ts): files the user picked or dropped
// (a local model folder, read by byte ranges), a folder served by the app itself (the embedded model), and
// a cache in front of a Hub source so a reload does not download again: small files in IndexedDB, weights
// streamed into OPFS as they download (resumed with Range requests after a dropped connection or a reload)
// and read back tensor by tensor.
import { UserError } from '../src/engine/errors';
import { download, type DownloadSink } from '../src/engine/io/download';
import { checkRelativePath, type FileSource, type ProgressFn } from '../src/engine/io/source';
import {
  getCachedFile,
  getModelIndex,
  markModelComplete,
  putCachedFile,
  recordCachedFile,
  StorageFullError,
  type DB,
} from '../src/storage';
import { modelFilesDir, storedFileName } from '../src/storage/opfs';

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
    range: async (path, begin, end) => new Uint8Array(await get(path).slice(begin, end).arrayBuffer()),
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

const isQuota = (e: unknown) => e instanceof StorageFullError || (e as Error)?.name === 'QuotaExceededError';

/** An OPFS file as a download sink, through a synchronous access handle (dedicated workers only). */
async function opfsSink(file: FileSystemFileHandle): Promise<DownloadSink & { close(): void }> {
  const h = await file.createSyncAccessHandle();
  return {
    size: async () => h.getSize(),
    write: async (chunk, at) => {
      let n = 0;
      while (n < chunk.length) n += h.write(chunk.subarray(n), { at: at + n });
    },
    truncate: async (size) => h.truncate(size),
    flush: async () => h.flush(),
    close: () => h.close(),
  };
}

/**
 * A cache in front of `inner` (a Hub source). Once a model loaded completely, `has` is answered from the
 * cache index alone, so a reload needs no network at all. Weights files go to OPFS through `prepare`
 * (streamed, resumable) and are read by `range`; other files, and weights where OPFS is missing, go through
 * IndexedDB whole. A full disk only means "not cached" (reported), never a failed load.
 */
export function cachedSource(inner: FileSource, db: DB, key: string): CachedSource {
  const missing = new Set<string>();
  const stats = { cached: 0, downloaded: 0, notCached: null as string | null };
  const full = 'browser storage is full: the model was loaded but not cached for the next visit';
  const index = () => getModelIndex(db, key);
  /** Prepared weights: an OPFS file, or the bytes in memory where it could not be stored. */
  const ready = new Map<string, Blob | Uint8Array>();

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
      stats.notCached = full;
    }
    return bytes;
  };

  /** Streams `path` into its OPFS file, resuming a partial one; the finished file, or undefined without OPFS. */
  const store = async (path: string, onProgress?: ProgressFn): Promise<Blob | undefined> => {
    const dir = await modelFilesDir(key, true).catch(() => undefined);
    if (!dir || !inner.stream) return undefined;
    const handle = await dir.getFileHandle(storedFileName(path), { create: true });
    const known = (await index())?.files[path];
    const existing = await handle.getFile();
    if (known !== undefined && existing.size === known) {
      stats.cached++;
      onProgress?.(known, known);
      return existing;
    }
    const sink = await opfsSink(handle);
    let size: number;
    try {
      size = await download(inner, path, sink, { onProgress });
    } finally {
      sink.close();
    }
    stats.downloaded++;
    await recordCachedFile(db, key, path, size);
    return handle.getFile();
  };

  const prepare = async (path: string, onProgress?: ProgressFn): Promise<Blob | Uint8Array> => {
    let got = ready.get(path);
    if (got) return got;
    try {
      got = await store(path, onProgress);
    } catch (e) {
      if (!isQuota(e)) throw e;
      stats.notCached = full;
      await modelFilesDir(key, false)
        .then((d) => d?.removeEntry(storedFileName(path)))
        .catch(() => undefined);
    }
    got ??= await fetchOnce(path, onProgress);
    ready.set(path, got);
    return got;
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
    size: async (path) => {
      const got = ready.get(path);
      if (got) return got instanceof Blob ? got.size : got.length;
      return (await index())?.files[path] ?? inner.size?.(path);
    },
    text: async (path) => new TextDecoder().decode(await fetchOnce(path)),
    bytes: async (path, onProgress) => {
      const got = await prepare(path, onProgress);
      return got instanceof Blob ? new Uint8Array(await got.arrayBuffer()) : got;
    },
    prepare: async (path, onProgress) => void (await prepare(path, onProgress)),
    range: async (path, begin, end) => {
      const got = await prepare(path);
      if (got instanceof Blob) return new Uint8Array(await got.slice(begin, end).arrayBuffer());
      return got.subarray(begin, end);
    },
    finish: async () => {
      if (stats.notCached) return;
      await markModelComplete(db, key, [...missing]).catch(() => undefined);
    },
  };
}
