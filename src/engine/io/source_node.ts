// Local-folder FileSource over node:fs (CLI and tests). Node-only, hence the `.node.ts` name.
// Paths are relative to the folder; `..` and absolute paths are refused. Large files are read in chunks
// into one preallocated buffer, so progress is reported and files over 2 GiB (one read's limit) work.

import { open, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { UserError } from '../errors';
import { checkRelativePath, type FileSource } from './source';

const CHUNK = 64 * 1024 * 1024;

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
  };

  async function read(
    path: string,
    onProgress?: (loaded: number, total: number) => void,
  ): Promise<Uint8Array> {
    const file = await open(full(path), 'r').catch((e) => notFound(path, e));
    try {
      const { size } = await file.stat();
      const buf = new Uint8Array(size);
      let n = 0;
      onProgress?.(0, size);
      while (n < size) {
        const { bytesRead } = await file.read(buf, n, Math.min(CHUNK, size - n), n);
        if (bytesRead === 0) throw new UserError(`${path} shrank while being read`, dir);
        n += bytesRead;
        onProgress?.(n, size);
      }
      return buf;
    } catch (e) {
      return notFound(path, e);
    } finally {
      await file.close();
    }
  }
}
