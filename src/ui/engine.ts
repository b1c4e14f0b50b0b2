// The page's handle on the engine worker: one module worker, wrapped with comlink. Only the API's type is
// imported from workers/, so no engine code runs on the page. Callbacks go through comlink.proxy.
import { proxy, wrap, type Remote } from 'comlink';
import type { EngineApi } from '../../workers/api';

let remote: Remote<EngineApi> | undefined;

export function engine(): Remote<EngineApi> {
  if (!remote) {
    const worker = new Worker(new URL('../../workers/engine.worker.ts', import.meta.url), {
      type: 'module',
      name: 'engine',
    });
    remote = wrap<EngineApi>(worker);
  }
  return remote;
}

/** Wraps a callback for passing to the worker. */
export const cb = <F extends (...args: never[]) => unknown>(f: F) => proxy(f);

let jobs = 0;
export const newJobId = (kind: string) => `${kind}-${++jobs}-${Date.now().toString(36)}`;

/** A readable message from an error that crossed the worker boundary (name and message survive). */
export function errorText(e: unknown): string {
  if (e instanceof Error) return e.message || e.name;
  return String(e);
}

/** True for errors the user can act on (UserError and its kinds), as opposed to bugs. */
export const isUserFacing = (e: unknown) =>
  e instanceof Error && ['UserError', 'CancelledError', 'StorageFullError'].includes(e.name);

export const isCancelled = (e: unknown) => e instanceof Error && e.name === 'CancelledError';
