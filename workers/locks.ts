// Web Locks held by the engine worker. A lock is released by the browser when its holder is gone, so the
// page learns of a dead worker (its life lock becomes free) and another tab learns that a run's owner is
// gone (the run's lock becomes free). Where the Locks API is missing (Node tests) nothing is held.
import { UserError } from '../src/engine/errors';
import { runLockName } from '../src/storage';

const locks = () => globalThis.navigator?.locks;

/** Takes `name` for the rest of this worker's life; resolves once it is held. */
export function holdWorkerLock(name: string): Promise<void> {
  const l = locks();
  if (!l || !name) return Promise.resolve();
  return new Promise((held) => {
    void l.request(name, () => {
      held();
      return new Promise<void>(() => undefined);
    });
  });
}

/**
 * Takes the lock of run `runId` (this tab owns the run while it holds it) and returns its release; refuses
 * when another tab holds it.
 */
export function holdRunLock(runId: string, runName: string): Promise<() => void> {
  const l = locks();
  if (!l) return Promise.resolve(() => undefined);
  return new Promise((resolve, reject) => {
    void l
      .request(runLockName(runId), { ifAvailable: true }, (lock) => {
        if (!lock) {
          reject(new UserError(`run "${runName}" is running in another tab of the studio`));
          return undefined;
        }
        return new Promise<void>((release) => resolve(release));
      })
      .catch(reject);
  });
}
