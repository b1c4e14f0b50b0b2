// Cancellation and pausing for long worker calls. An AbortSignal cannot cross the comlink boundary, so the
// page names each long call with a job id and controls it through api.cancel/pause/resume(jobId); the
// worker checks its Job between steps and chunks (the worker's event loop is free at every await).
import { UserError } from '../src/engine/errors';

export class CancelledError extends UserError {
  override name = 'CancelledError';
  constructor() {
    super('cancelled');
  }
}

export class Job {
  readonly controller = new AbortController();
  private paused: { promise: Promise<void>; resolve: () => void } | null = null;
  constructor(readonly id: string) {}

  get signal(): AbortSignal {
    return this.controller.signal;
  }
  get cancelled() {
    return this.controller.signal.aborted;
  }
  get isPaused() {
    return this.paused !== null;
  }
  /** Throws CancelledError once the job was cancelled. */
  check() {
    if (this.cancelled) throw new CancelledError();
  }
  pause() {
    if (this.paused || this.cancelled) return;
    let resolve!: () => void;
    const promise = new Promise<void>((r) => (resolve = r));
    this.paused = { promise, resolve };
  }
  resume() {
    this.paused?.resolve();
    this.paused = null;
  }
  cancel() {
    this.controller.abort();
    this.resume();
  }
  /** Waits while paused; throws if cancelled meanwhile. */
  async gate() {
    while (this.paused) await this.paused.promise;
    this.check();
  }
}

const jobs = new Map<string, Job>();

/** Runs `fn` as job `id` (registered until it settles). */
export async function runJob<T>(id: string | undefined, fn: (job: Job) => Promise<T>): Promise<T> {
  const job = new Job(id ?? `anon-${Math.random().toString(36).slice(2)}`);
  if (id && jobs.has(id)) throw new Error(`job ${id} is already running`);
  jobs.set(job.id, job);
  try {
    return await fn(job);
  } finally {
    jobs.delete(job.id);
  }
}

export const findJob = (id: string) => jobs.get(id);
