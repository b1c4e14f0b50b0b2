// Adapters from the IndexedDB library, read and checked against the loaded base model (engine's PEFT
// reader), cached per id for chat and export.
import { UserError } from '../src/engine/errors';
import { readAdapter, type Adapter } from '../src/engine/io/peft';
import { memorySource } from '../src/engine/io/source';
import { getAdapterFiles } from '../src/storage';
import { db, getModel, type ModelState } from './context';

const cache = new Map<string, { model: ModelState; adapter: Adapter }>();

export async function libraryAdapter(id: string): Promise<Adapter> {
  const m = getModel();
  const hit = cache.get(id);
  if (hit && hit.model === m) return hit.adapter;
  const files = await getAdapterFiles(await db(), id);
  if (!files) throw new UserError('that adapter is no longer in the library');
  const adapter = await readAdapter(memorySource(files, 'library adapter'), m.model.config);
  if (cache.size > 8) cache.clear();
  cache.set(id, { model: m, adapter });
  return adapter;
}
