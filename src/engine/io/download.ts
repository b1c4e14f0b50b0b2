// Resumable downloads into storage: a file's body is written chunk by chunk into a sink (an OPFS file in
// the browser, a file on disk in the CLI), never held whole in memory. When the connection drops, the
// download goes on from the bytes already stored with an HTTP Range request; a server that ignores the
// range restarts it from zero. An earlier, interrupted download is resumed the same way.
import { UserError } from '../errors';
import type { FileSource, ProgressFn } from './source';

/** Where a download's bytes go: random-access writes into one file. */
export interface DownloadSink {
  /** Bytes already stored (from an interrupted download), 0 for none. */
  size(): Promise<number>;
  write(chunk: Uint8Array, at: number): Promise<void>;
  truncate(size: number): Promise<void>;
  /** Makes the written bytes durable (called now and then and at the end). */
  flush?(): Promise<void>;
}

export interface DownloadOptions {
  onProgress?: ProgressFn;
  /** Attempts after a dropped connection that made no progress (default 3). */
  retries?: number;
  /** Checked between chunks; throw to cancel (the bytes so far stay for a later resume). */
  check?: () => void;
}

const FLUSH_EVERY = 64 * 1024 * 1024;

/** Downloads `path` from `source` into `sink`, resuming what the sink holds; returns the file's size. */
export async function download(
  source: FileSource,
  path: string,
  sink: DownloadSink,
  opts: DownloadOptions = {},
): Promise<number> {
  if (!source.stream) throw new Error(`${source.label} cannot stream files`);
  const retries = opts.retries ?? 3;
  let have = await sink.size();
  let failures = 0;
  for (;;) {
    const part = await source.stream(path, have);
    if (part.offset !== have) {
      if (part.offset !== 0) throw new UserError(`download of ${path}: the server sent the wrong range`);
      await sink.truncate(0); // the server ignored the range: start again
      have = 0;
    }
    const total = part.total;
    if (total !== undefined && have > total) {
      await sink.truncate(0); // the file on the server is not the one stored before
      have = 0;
      continue;
    }
    opts.onProgress?.(have, total ?? 0);
    const before = have;
    let sinceFlush = 0;
    const reader = part.body.getReader();
    let error: unknown;
    try {
      for (;;) {
        opts.check?.();
        const { done, value } = await reader.read();
        if (done) break;
        await sink.write(value, have);
        have += value.length;
        sinceFlush += value.length;
        if (sinceFlush >= FLUSH_EVERY) {
          await sink.flush?.();
          sinceFlush = 0;
        }
        opts.onProgress?.(have, Math.max(total ?? 0, have));
      }
    } catch (e) {
      if (e instanceof UserError || (e as Error)?.name === 'AbortError') {
        void reader.cancel().catch(() => undefined);
        throw e;
      }
      error = e;
      reader.releaseLock();
    }
    await sink.flush?.();
    if (error === undefined && (total === undefined || have >= total)) return have;
    failures = have > before ? 0 : failures + 1;
    if (failures > retries) {
      const why = error ? ` (${(error as Error).message})` : '';
      throw new UserError(
        `download of ${path} stopped after ${have}${total ? ` of ${total}` : ''} bytes${why}; ` +
          'try again to resume it',
        source.label,
      );
    }
  }
}
