// File sources: one read-only interface over a Hugging Face Hub repo, in-memory files and (in
// source_node.ts) a local folder, so the loader, the CLI, the worker and tests share one code path.
// The Hub source follows the Hub's URL layout `${endpoint}/${repo}/resolve/${revision}/${path}` and streams
// a file from any byte offset (an HTTP Range request), which download.ts uses to resume.

import { UserError } from '../errors';

export type ProgressFn = (loaded: number, total: number) => void;

export interface FileSource {
  /** Shown in messages: the folder path or `endpoint/repo`. */
  readonly label: string;
  /** Every file path (relative, '/'-separated), where the source can list. */
  list?(): Promise<string[]>;
  has(path: string): Promise<boolean>;
  /** Size in bytes without reading the file, where cheap; undefined when unknown. */
  size?(path: string): Promise<number | undefined>;
  text(path: string): Promise<string>;
  /** The whole file. `onProgress` gets (bytes so far, total bytes or 0 when unknown). */
  bytes(path: string, onProgress?: ProgressFn): Promise<Uint8Array>;
  /** Bytes [begin, end) of a file without reading the rest, where the source can (files on disk, stored
   *  downloads). The loader reads weights tensor by tensor through it. */
  range?(path: string, begin: number, end: number): Promise<Uint8Array>;
  /** Makes `path` readable with `range` (e.g. downloads it into storage), reporting progress. */
  prepare?(path: string, onProgress?: ProgressFn): Promise<void>;
  /** The file's body from byte `from` on (HTTP Range). */
  stream?(path: string, from: number): Promise<BodyStream>;
}

export interface BodyStream {
  body: ReadableStream<Uint8Array>;
  /** Where `body` starts in the file: `from`, or 0 when the server ignored the range. */
  offset: number;
  /** The whole file's size, when the server says. */
  total?: number;
}

/** Rejects absolute paths and `..` segments: file names can come from untrusted index files. */
export function checkRelativePath(path: string, where?: string): string {
  const parts = path.split('/');
  if (
    path === '' ||
    path.startsWith('/') ||
    path.includes('\\') ||
    parts.some((p) => p === '..' || p === '')
  ) {
    throw new UserError(`bad file path '${path}' (must be relative, without '..')`, where);
  }
  return path;
}

const decoder = new TextDecoder();

/** Files held in memory (tests, files the user dropped into the page). */
export function memorySource(files: Record<string, Uint8Array | string>, label = 'memory'): FileSource {
  const get = (path: string) => {
    if (!Object.hasOwn(files, path)) throw new UserError(`${path} not found`, label);
    return files[path];
  };
  return {
    label,
    list: async () => Object.keys(files).sort(),
    has: async (path) => Object.hasOwn(files, path),
    size: async (path) => {
      if (!Object.hasOwn(files, path)) return undefined;
      const f = files[path];
      return typeof f === 'string' ? new TextEncoder().encode(f).length : f.length;
    },
    text: async (path) => {
      const f = get(path);
      return typeof f === 'string' ? f : decoder.decode(f);
    },
    bytes: async (path, onProgress) => {
      const f = get(path);
      const b = typeof f === 'string' ? new TextEncoder().encode(f) : f;
      onProgress?.(b.length, b.length);
      return b;
    },
    range: async (path, begin, end) => {
      const f = get(path);
      const b = typeof f === 'string' ? new TextEncoder().encode(f) : f;
      if (begin < 0 || end > b.length || begin > end) {
        throw new UserError(`cannot read bytes [${begin}, ${end}) of a ${b.length}-byte file`, path);
      }
      return b.subarray(begin, end); // a view: the file is in memory already
    },
  };
}

export interface HubOptions {
  /** "owner/name". */
  repo: string;
  /** Branch, tag or commit; default "main". */
  revision?: string;
  /** Default https://huggingface.co (or a mirror with the same layout). */
  endpoint?: string;
  /** Access token for gated or private repos. */
  token?: string;
  fetch?: typeof fetch;
}

const REPO_RE = /^[A-Za-z0-9][A-Za-z0-9._-]*\/[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** A repo on the Hugging Face Hub (or a server with its URL layout). */
export function hubSource(opts: HubOptions): FileSource {
  const endpoint = (opts.endpoint ?? 'https://huggingface.co').replace(/\/+$/, '');
  const revision = opts.revision ?? 'main';
  const { repo, token } = opts;
  const doFetch = opts.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const label = `${endpoint}/${repo}`;
  if (!REPO_RE.test(repo)) throw new UserError(`'${repo}' is not a Hub repo id (expected "owner/name")`);

  const url = (path: string) =>
    `${endpoint}/${repo}/resolve/${encodeURIComponent(revision)}/` +
    checkRelativePath(path, label).split('/').map(encodeURIComponent).join('/');

  async function request(path: string, method: 'GET' | 'HEAD', from = 0): Promise<Response> {
    const headers: Record<string, string> = {};
    if (token) headers.Authorization = `Bearer ${token}`;
    if (from > 0) headers.Range = `bytes=${from}-`;
    try {
      return await doFetch(url(path), { method, headers });
    } catch (e) {
      if (e instanceof UserError) throw e;
      const cause = (e as { cause?: { message?: string } }).cause?.message;
      throw new UserError(
        `cannot reach ${endpoint} (${cause ?? (e as Error).message}); check the network connection and the Hub endpoint`,
        label,
      );
    }
  }

  /** Turns an error status into a UserError; `missingOk` makes a missing file (not repo) return false. */
  function check(res: Response, path: string, missingOk: boolean): boolean {
    if (res.ok) return true;
    const code = res.headers.get('x-error-code') ?? '';
    if (res.status === 401 || res.status === 403) {
      if (code === 'GatedRepo' || token) {
        throw new UserError(
          token
            ? `access denied (HTTP ${res.status}): the access token was refused or has no access to this gated or private repo; accept the model's license on the Hub and check the token`
            : `the repo is gated: an access token is needed (accept the model's license on the Hub, then set the token)`,
          label,
        );
      }
      throw new UserError(
        `the repo was not found, or it is gated or private and an access token is needed (HTTP ${res.status})`,
        label,
      );
    }
    if (res.status === 404) {
      if (code === 'RepositoryNotFound') throw new UserError('repo not found', label);
      if (code === 'RevisionNotFound') throw new UserError(`revision '${revision}' not found`, label);
      if (missingOk) return false;
      throw new UserError(`${path} not found (revision ${revision})`, label);
    }
    throw new UserError(`HTTP ${res.status} ${res.statusText} for ${path}`, label);
  }

  return {
    label,
    has: async (path) => {
      const res = await request(path, 'HEAD');
      return check(res, path, true);
    },
    size: async (path) => {
      const res = await request(path, 'HEAD');
      if (!check(res, path, true)) return undefined;
      const n = Number(res.headers.get('x-linked-size') ?? res.headers.get('content-length') ?? NaN);
      return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
    },
    text: async (path) => {
      const res = await request(path, 'GET');
      check(res, path, false);
      return res.text();
    },
    bytes: async (path, onProgress) => {
      const res = await request(path, 'GET');
      check(res, path, false);
      return readBody(res, label, path, onProgress);
    },
    stream: async (path, from) => {
      const res = await request(path, 'GET', from);
      // 416: the range starts at the end, i.e. an earlier download already has every byte.
      if (res.status === 416 && from > 0) {
        const empty = new ReadableStream<Uint8Array>({ start: (c) => c.close() });
        return { body: empty, offset: from, total: from };
      }
      check(res, path, false);
      if (!res.body) throw new UserError(`download of ${path} has no body`, label);
      const length = Number(res.headers.get('content-length') ?? NaN);
      const partial = res.status === 206;
      const encoded = (res.headers.get('content-encoding') ?? 'identity') !== 'identity';
      const offset = partial ? from : 0;
      const whole = Number(/\/(\d+)$/.exec(res.headers.get('content-range') ?? '')?.[1] ?? NaN);
      const total = Number.isSafeInteger(whole)
        ? whole
        : Number.isSafeInteger(length) && !encoded
          ? offset + length
          : undefined;
      return { body: res.body, offset, total };
    },
  };
}

/** Reads a response body, reporting progress; preallocates when Content-Length is given and grows if wrong. */
async function readBody(
  res: Response,
  label: string,
  path: string,
  onProgress?: ProgressFn,
): Promise<Uint8Array> {
  const declared = Number(res.headers.get('content-length') ?? NaN);
  const total = Number.isSafeInteger(declared) && declared >= 0 ? declared : 0;
  // With a content encoding the length is of the compressed body: use it for progress only.
  const encoded = (res.headers.get('content-encoding') ?? 'identity') !== 'identity';
  if (!res.body) {
    const b = new Uint8Array(await res.arrayBuffer());
    onProgress?.(b.length, b.length);
    return b;
  }
  let buf: Uint8Array;
  try {
    buf = new Uint8Array(total || 1 << 16);
  } catch {
    throw new UserError(`${path} is too large to load into memory (${total} bytes)`, label);
  }
  let n = 0;
  const reader = res.body.getReader();
  onProgress?.(0, total);
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (n + value.length > buf.length) {
        const grown = new Uint8Array(Math.max(buf.length * 2, n + value.length));
        grown.set(buf.subarray(0, n));
        buf = grown;
      }
      buf.set(value, n);
      n += value.length;
      onProgress?.(n, Math.max(total, n));
    }
  } catch (e) {
    throw new UserError(`download of ${path} failed after ${n} bytes (${(e as Error).message})`, label);
  }
  if (total && !encoded && n < total)
    throw new UserError(`download of ${path} ended early: ${n} of ${total} bytes`, label);
  return n === buf.length ? buf : buf.slice(0, n);
}
