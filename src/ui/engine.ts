// The page's handle on the engine worker: one module worker, wrapped with comlink. Only the API's type is
// imported from workers/, so no engine code runs on the page. Callbacks go through comlink.proxy.
// The worker holds a Web Lock named after itself for its whole life; the page asks for the same lock, which
// the browser grants only once the worker is gone (a crash, out of memory): then the page is told
// (onEngineLost), calls still waiting on that worker reject with EngineLostError, and the next call starts
// a new worker.
import { proxy, wrap, type Remote } from 'comlink';
import type { EngineApi } from '../../workers/api';

interface Live {
  remote: Remote<EngineApi>;
  worker: Worker;
  /** Rejects with EngineLostError when this worker is gone. */
  lost: Promise<never>;
}

let live: Live | undefined;
const listeners = new Set<() => void>();

export class EngineLostError extends Error {
  override name = 'EngineLostError';
  constructor() {
    super('the engine stopped (the browser may have run out of memory)');
  }
}

function start(): Live {
  const name = `lora-studio-engine-${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
  const worker = new Worker(new URL('../../workers/engine.worker.ts', import.meta.url), {
    type: 'module',
    name,
  });
  let reject!: (e: Error) => void;
  const lost = new Promise<never>((_, r) => (reject = r));
  lost.catch(() => undefined);
  const l: Live = { remote: wrap<EngineApi>(worker), worker, lost };
  void watch(l, name, () => reject(new EngineLostError()));
  return l;
}

async function watch(l: Live, name: string, fail: () => void) {
  const locks = globalThis.navigator?.locks;
  if (!locks) return;
  try {
    await l.remote.holdLife();
  } catch {
    return;
  }
  await locks.request(name, () => undefined);
  if (live !== l) return; // replaced on purpose
  live = undefined;
  fail();
  for (const f of listeners) f();
}

export function engine(): Remote<EngineApi> {
  live ??= start();
  return live.remote;
}

/** Runs a call on the engine, rejecting with EngineLostError if the worker dies before it settles. */
export function untilLost<T>(call: (e: Remote<EngineApi>) => Promise<T>): Promise<T> {
  const r = engine();
  return Promise.race([call(r), live!.lost]);
}

/** Calls `f` each time the engine worker is found gone (a new one starts on the next call). */
export function onEngineLost(f: () => void): () => void {
  listeners.add(f);
  return () => listeners.delete(f);
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

export const isEngineLost = (e: unknown) => e instanceof EngineLostError;
