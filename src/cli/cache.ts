// A disk cache in front of a Hub source: each file is streamed once into the cache folder (a `.part` file,
// renamed when complete) and read from there afterwards, so a second run works offline. A download cut
// off (a dropped connection, or a run stopped mid-file) resumes from the `.part` with a Range request.
// Weights are then read by byte ranges from disk, never one buffer per file.
import { existsSync, renameSync, statSync } from 'node:fs';
import { download } from '../engine/io/download';
import { checkRelativePath, type FileSource, type ProgressFn } from '../engine/io/source';
import { dirSource, fileSink } from '../engine/io/source_node';

export function cachedSource(inner: FileSource, dir: string): FileSource {
  const local = (p: string) => `${dir}/${checkRelativePath(p, inner.label)}`;
  const disk = dirSource(dir);
  const pending = new Map<string, Promise<void>>();

  const fetchOnce = (p: string, onProgress?: ProgressFn): Promise<void> => {
    const file = local(p);
    if (existsSync(file)) {
      const { size } = statSync(file);
      onProgress?.(size, size);
      return Promise.resolve();
    }
    let run = pending.get(p);
    if (!run) {
      run = (async () => {
        const sink = fileSink(`${file}.part`);
        try {
          await download(inner, p, sink, { onProgress });
        } finally {
          await sink.close();
        }
        renameSync(`${file}.part`, file);
      })().finally(() => pending.delete(p));
      pending.set(p, run);
    }
    return run;
  };

  return {
    label: inner.label,
    has: async (p) => existsSync(local(p)) || inner.has(p),
    size: async (p) => (existsSync(local(p)) ? statSync(local(p)).size : inner.size?.(p)),
    text: async (p) => {
      await fetchOnce(p);
      return disk.text(p);
    },
    bytes: async (p, onProgress) => {
      await fetchOnce(p, onProgress);
      return disk.bytes(p);
    },
    prepare: (p, onProgress) => fetchOnce(p, onProgress),
    range: async (p, begin, end) => {
      await fetchOnce(p);
      return disk.range!(p, begin, end);
    },
  };
}
