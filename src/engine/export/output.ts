// Export results as files made on demand: each yields its bytes in chunks, so the writer (the CLI's atomic
// writer, or a Blob in the browser) never needs a whole multi-GB model in one buffer.

import type { GgufFile } from './gguf';

export interface OutputFile {
  /** Relative path ('/'-separated). */
  path: string;
  /** Exact size in bytes when known before making the file. */
  size?: number;
  chunks(): Iterable<Uint8Array | string>;
}

/** A file whose content is made in one piece when asked for. */
export function lazyFile(path: string, make: () => Uint8Array | string): OutputFile {
  return {
    path,
    *chunks() {
      yield make();
    },
  };
}

export function ggufOutput(path: string, file: GgufFile): OutputFile {
  return { path, size: file.size, chunks: () => file.chunks() };
}

/** The whole file in memory (small files, tests). */
export function fileBytes(file: OutputFile): Uint8Array {
  const enc = new TextEncoder();
  const parts = [...file.chunks()].map((c) => (typeof c === 'string' ? enc.encode(c) : c));
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
