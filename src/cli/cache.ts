// A disk cache in front of a Hub source: files are fetched once into the cache folder (atomically) and
// read from there afterwards, so a second run works offline.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { checkRelativePath, type FileSource } from '../engine/io/source';

export function cachedSource(inner: FileSource, dir: string): FileSource {
  const local = (p: string) => join(dir, checkRelativePath(p, inner.label));
  const fetchOnce = async (p: string, onProgress?: (l: number, t: number) => void) => {
    const file = local(p);
    if (existsSync(file)) {
      const b = new Uint8Array(readFileSync(file));
      onProgress?.(b.length, b.length);
      return b;
    }
    const bytes = await inner.bytes(p, onProgress);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(`${file}.part`, bytes);
    renameSync(`${file}.part`, file);
    return bytes;
  };
  return {
    label: inner.label,
    has: async (p) => existsSync(local(p)) || inner.has(p),
    text: async (p) => new TextDecoder().decode(await fetchOnce(p)),
    bytes: fetchOnce,
  };
}
