// Small key/value settings (Hub endpoint, access token, UI choices) kept in IndexedDB on this machine.
// The access token is stored locally only and sent only to the Hub endpoint the user set.
import { write, type DB } from './db';

export interface Settings {
  hubEndpoint: string;
  hubToken: string;
  /** Backend preference for the engine worker. */
  backend: 'auto' | 'webgpu' | 'wasm';
  activeDatasetId?: string;
  /** The Train form as last edited (TrainConfig fields). */
  trainForm?: Record<string, unknown>;
}

export const defaultSettings: Settings = {
  hubEndpoint: 'https://huggingface.co',
  hubToken: '',
  backend: 'auto',
};

export async function loadSettings(db: DB): Promise<Settings> {
  const out: Settings = { ...defaultSettings };
  const keys = await db.getAllKeys('settings');
  for (const k of keys) {
    if (k in defaultSettings || k === 'activeDatasetId' || k === 'trainForm') {
      (out as unknown as Record<string, unknown>)[k] = await db.get('settings', k);
    }
  }
  return out;
}

export async function saveSettings(db: DB, patch: Partial<Settings>): Promise<void> {
  await write(db, ['settings'], 'settings', async (tx) => {
    const store = tx.objectStore('settings');
    for (const [k, v] of Object.entries(patch)) {
      if (v === undefined) await store.delete(k);
      else await store.put(v, k);
    }
  });
}
