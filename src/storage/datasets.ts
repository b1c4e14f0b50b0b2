// Named datasets in IndexedDB: the rows exactly as imported or edited, plus the validation split.
// Follows the schema in db.ts; rows stay plain JSON so any format src/data detects round-trips.
import { newId, stamp, write, type DatasetRecord, type DataRow, type DB } from './db';

export async function listDatasets(db: DB): Promise<DatasetRecord[]> {
  const all = await db.getAll('datasets');
  return all.sort((a, b) => a.createdAt - b.createdAt);
}

export const getDataset = (db: DB, id: string) => db.get('datasets', id);

export async function createDataset(
  db: DB,
  name: string,
  rows: DataRow[] = [],
  valSplit = 0,
): Promise<DatasetRecord> {
  const now = stamp();
  const rec: DatasetRecord = { id: newId('ds'), name, rows, valSplit, createdAt: now, updatedAt: now };
  await write(db, ['datasets'], `dataset "${name}"`, async (tx) => {
    await tx.objectStore('datasets').add(rec);
  });
  return rec;
}

/** Replaces the stored record (rows, name, split); keeps createdAt. */
export async function saveDataset(db: DB, rec: DatasetRecord): Promise<DatasetRecord> {
  const next = { ...rec, updatedAt: stamp() };
  await write(db, ['datasets'], `dataset "${rec.name}"`, async (tx) => {
    await tx.objectStore('datasets').put(next);
  });
  return next;
}

export async function deleteDataset(db: DB, id: string): Promise<void> {
  await write(db, ['datasets'], 'dataset deletion', async (tx) => {
    await tx.objectStore('datasets').delete(id);
  });
}
