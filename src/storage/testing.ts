// Helpers for the storage tests on fake-indexeddb: a fresh database per call, and a full disk on one object
// store (its put and add throw QuotaExceededError, as a browser does) until the end of the test.
import 'fake-indexeddb/auto';
import { afterEach } from 'vitest';
import { openStudioDB } from './db';

let n = 0;
export const freshDB = (prefix: string) => openStudioDB(`${prefix}-${n++}`);

const realPut = IDBObjectStore.prototype.put;
const realAdd = IDBObjectStore.prototype.add;
afterEach(() => {
  IDBObjectStore.prototype.put = realPut;
  IDBObjectStore.prototype.add = realAdd;
});

/** Writes to `store` fail as on a full disk, until the test ends (or `diskFullFor(null)`). */
export function diskFullFor(store: string | null) {
  for (const m of ['put', 'add'] as const) {
    const real = m === 'put' ? realPut : realAdd;
    IDBObjectStore.prototype[m] = function (
      this: IDBObjectStore,
      ...args: Parameters<IDBObjectStore['put']>
    ) {
      if (this.name === store) throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
      return real.apply(this, args);
    };
  }
}
