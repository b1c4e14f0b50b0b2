// Adapters & Export actions: rename, delete, import a PEFT folder or zip (checked by the worker against the
// loaded base model), export a PEFT zip (fflate), and free space (cached models).
import { zipSync } from 'fflate';
import type { PickedFile } from '../../../workers/api';
import * as storage from '../../storage';
import type { AdapterRecord } from '../../storage';
import { useStudio } from '../../state/store';
import { engine } from '../engine';
import { db, download, refreshStorage, report } from './app';

const st = () => useStudio.getState();

export async function renameAdapter(a: AdapterRecord, name: string) {
  const trimmed = name.trim();
  if (!trimmed || trimmed === a.name) return;
  try {
    await storage.renameAdapter(await db(), a.id, trimmed);
    await refreshStorage();
  } catch (e) {
    report(e);
  }
}

export async function deleteAdapter(a: AdapterRecord) {
  try {
    await storage.deleteAdapter(await db(), a.id);
    if (st().chatAdapterId === a.id) st().setChat({ chatAdapterId: null });
    await refreshStorage();
  } catch (e) {
    report(e);
  }
}

export async function importAdapter(files: PickedFile[], name: string) {
  try {
    const rec = await engine().importAdapter(files, name);
    st().notify('info', `imported adapter "${rec.name}" (rank ${rec.rank}, ${rec.targets.join(', ')})`);
    await refreshStorage();
  } catch (e) {
    report(e, 'adapter not imported');
  }
}

const safeName = (s: string) => s.replace(/[^\w.-]+/g, '_') || 'adapter';

/** A zip with adapter_config.json and adapter_model.safetensors at its root, as PEFT's save_pretrained writes. */
export async function exportPeftZip(a: AdapterRecord) {
  try {
    const files = await storage.getAdapterFiles(await db(), a.id);
    if (!files) throw new Error('the adapter files are missing from storage');
    const zip = zipSync(files, { level: 0 });
    download(`${safeName(a.name)}.zip`, zip as Uint8Array<ArrayBuffer>, 'application/zip');
  } catch (e) {
    report(e, 'export failed');
  }
}

export async function exportOther(a: AdapterRecord | null, format: 'merged-safetensors' | 'gguf-adapter' | 'gguf-merged') {
  try {
    const files = await engine().exportModel(a?.id ?? null, format);
    for (const [name, bytes] of Object.entries(files)) download(name, bytes as Uint8Array<ArrayBuffer>);
  } catch (e) {
    report(e, 'export failed');
  }
}

export async function deleteCachedModel(source: string) {
  try {
    await storage.deleteCachedModel(await db(), source);
    await refreshStorage();
  } catch (e) {
    report(e);
  }
}

export async function askPersistence() {
  const ok = await storage.requestPersistence();
  if (!ok) st().notify('info', 'the browser did not grant persistent storage; data may be evicted under storage pressure');
  await refreshStorage();
}
