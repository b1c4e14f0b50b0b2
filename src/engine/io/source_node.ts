// Local-folder FileSource over node:fs (CLI and tests), and a download sink writing into a file on disk.
// Node-only, hence the `_node.ts` name. Paths are relative to the folder; `..` and absolute paths are
// refused. `range` reads one byte span at its offset (how weights are loaded, tensor by tensor, so files
// over 4 GiB work); whole files are read in chunks, so progress is reported.

import { mkdir, open, readdir, stat, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { UserError } from '../errors';
import type { DownloadSink } from './download';
import { checkRelativePath, type FileSource } from './source';

const CHUNK = 64 * 1024 * 1024;
/** Node's largest typed array (bytes): a whole file beyond it cannot be one buffer. */
const MAX_BUFFER = 2 ** 32 - 1;

/** Fills `buf` from `file` at `position`, in chunks (one read is limited to 2 GiB). */
async function readAt(
  file: FileHandle,
  buf: Uint8Array,
  position: number,
  what: string,
  onChunk?: (n: number) => void,
): Promise<void> {
  let n = 0;
  while (n < buf.length) {
    const { bytesRead } = await file.read(buf, n, Math.min(CHUNK, buf.length - n), position + n);
    if (bytesRead === 0) throw new UserError(`${what} ended early (the file shrank while being read?)`);
    n += bytesRead;
    onChunk?.(n);
  }
}

/** A file on disk as a download sink (created with its folders on first use). */
export function fileSink(path: string): DownloadSink & { close(): Promise<void> } {
  let handle: Promise<FileHandle> | undefined;
  const file = () =>
    (handle ??= mkdir(dirname(path), { recursive: true }).then(() =>
      open(path, 'a+').then(async (h) => {
        await h.close();
        return open(path, 'r+');
      }),
    ));
  return {
    size: async () => (await file()).stat().then((s) => s.size),
    write: async (chunk, at) => {
      const h = await file();
      let n = 0;
      while (n < chunk.length) n += (await h.write(chunk, n, chunk.length - n, at + n)).bytesWritten;
    },
    truncate: async (size) => (await file()).truncate(size),
    flush: async () => (await file()).datasync(),
    close: async () => {
      if (handle) await (await handle).close();
      handle = undefined;
    },
  };
}

export function dirSource(dir: string): FileSource {
  const full = (path: string) => join(dir, checkRelativePath(path, dir));
  const isFile = async (path: string) => {
    try {
      return (await stat(full(path))).isFile();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw e;
    }
  };
  const notFound = (path: string, e: unknown): never => {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new UserError(`${path} not found`, dir);
    if (code === 'EACCES' || code === 'EISDIR') throw new UserError(`cannot read ${path} (${code})`, dir);
    throw e;
  };

  async function list(sub = ''): Promise<string[]> {
    const out: string[] = [];
    for (const d of await readdir(join(dir, sub), { withFileTypes: true })) {
      const rel = sub ? `${sub}/${d.name}` : d.name;
      if (d.isDirectory()) out.push(...(await list(rel)));
      else if (d.isFile()) out.push(rel);
    }
    return out.sort();
  }

  return {
    label: dir,
    list: () => list(),
    has: isFile,
    size: async (path) => ((await isFile(path)) ? (await stat(full(path))).size : undefined),
    text: async (path) => new TextDecoder().decode(await read(path)),
    bytes: (path, onProgress) => read(path, onProgress),
    range: async (path, begin, end) => {
      const file = await open(full(path), 'r').catch((e) => notFound(path, e));
      try {
        const { size } = await file.stat();
        if (!(begin >= 0 && begin <= end && end <= size)) {
          throw new UserError(`cannot read bytes [${begin}, ${end}) of ${path} (${size} bytes)`, dir);
        }
        const buf = new Uint8Array(end - begin);
        await readAt(file, buf, begin, `${dir}: ${path}`);
        return buf;
      } catch (e) {
        return notFound(path, e);
      } finally {
        await file.close();
      }
    },
  };

  async function read(
    path: string,
    onProgress?: (loaded: number, total: number) => void,
  ): Promise<Uint8Array> {
    const file = await open(full(path), 'r').catch((e) => notFound(path, e));
    try {
      const { size } = await file.stat();
      if (size > MAX_BUFFER) {
        throw new UserError(`${path} is too large (${size} bytes) to read into memory at once`, dir);
      }
      const buf = new Uint8Array(size);
      onProgress?.(0, size);
      await readAt(file, buf, 0, `${dir}: ${path}`, (n) => onProgress?.(n, size));
      return buf;
    } catch (e) {
      return notFound(path, e);
    } finally {
      await file.close();
    }
  }
}
