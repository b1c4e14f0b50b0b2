// Persistent storage and usage-vs-quota, shown in the studio so a user sees space before a long run.
// navigator.storage may be missing (old browsers, some test environments): report that, never throw.

export interface StorageEstimateInfo {
  usage: number;
  quota: number;
  persisted: boolean;
  available: boolean;
}

export async function estimateStorage(): Promise<StorageEstimateInfo> {
  const s = globalThis.navigator?.storage;
  if (!s?.estimate) return { usage: 0, quota: 0, persisted: false, available: false };
  const [est, persisted] = await Promise.all([
    s.estimate(),
    s.persisted ? s.persisted() : Promise.resolve(false),
  ]);
  return { usage: est.usage ?? 0, quota: est.quota ?? 0, persisted, available: true };
}

/** Asks the browser to keep our data under storage pressure; returns whether it agreed. */
export async function requestPersistence(): Promise<boolean> {
  const s = globalThis.navigator?.storage;
  if (!s?.persist) return false;
  try {
    return (await s.persisted?.()) || (await s.persist());
  } catch {
    return false;
  }
}
