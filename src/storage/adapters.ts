// The adapter library: metadata (listed often) and the PEFT files (read on export/chat) in two stores,
// written together in one transaction so an adapter is never half-saved.
import { newId, stamp, write, type AdapterRecord, type DB } from './db';

export type NewAdapter = Omit<AdapterRecord, 'id' | 'createdAt' | 'size'>;

export async function saveAdapter(
  db: DB,
  meta: NewAdapter,
  files: Record<string, Uint8Array>,
): Promise<AdapterRecord> {
  const size = Object.values(files).reduce((s, f) => s + f.byteLength, 0);
  const rec: AdapterRecord = { ...meta, id: newId('lora'), createdAt: stamp(), size };
  await write(db, ['adapters', 'adapterFiles'], `adapter "${meta.name}"`, async (tx) => {
    await tx.objectStore('adapterFiles').add({ id: rec.id, files });
    await tx.objectStore('adapters').add(rec);
  });
  return rec;
}

export async function listAdapters(db: DB): Promise<AdapterRecord[]> {
  return (await db.getAll('adapters')).sort((a, b) => b.createdAt - a.createdAt);
}

export async function getAdapterFiles(db: DB, id: string): Promise<Record<string, Uint8Array> | undefined> {
  return (await db.get('adapterFiles', id))?.files;
}

export async function renameAdapter(db: DB, id: string, name: string): Promise<void> {
  await write(db, ['adapters'], 'adapter name', async (tx) => {
    const store = tx.objectStore('adapters');
    const cur = await store.get(id);
    if (cur) await store.put({ ...cur, name });
  });
}

export async function deleteAdapter(db: DB, id: string): Promise<void> {
  await write(db, ['adapters', 'adapterFiles'], 'adapter deletion', async (tx) => {
    await tx.objectStore('adapters').delete(id);
    await tx.objectStore('adapterFiles').delete(id);
  });
}
