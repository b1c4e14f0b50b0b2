// Adapters & Export actions: rename, delete, import a PEFT folder or zip (checked by the worker against the
// loaded base model), export a PEFT zip (fflate), and free space (cached models).
import { zipSync } from 'fflate';
import type { ExportFormat, PickedFile } from '../../../workers/api';
import * as storage from '../../storage';
import type { AdapterRecord } from '../../storage';
import { useStudio } from '../../state/store';
import { engine } from '../engine';
import { db, download, refreshStorage, report } from './app';
import { busyReason } from './train';

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
  const busy = busyReason(`adapter "${name}" cannot be imported`);
  if (busy) return st().notify('error', busy);
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

export async function exportOther(a: AdapterRecord | null, format: ExportFormat) {
  if (st().modelStatus !== 'ready')
    return st().notify(
      'error',
      `load ${a ? `its base model ${a.baseModel}` : 'the base model'} first: this export is built from it`,
    );
  const what =
    format === 'gguf-adapter' ? 'GGUF adapter' : format === 'gguf-merged' ? 'GGUF model' : 'merged model';
  st().notify('info', `building the ${what}…`);
  try {
    const files = await engine().exportModel(
      a?.id ?? null,
      format,
      a?.name ?? st().modelFacts?.label ?? 'model',
    );
    const entries = Object.entries(files);
    if (format === 'merged-safetensors') {
      // a folder's worth of files: one zip (stored, the weights do not compress)
      const zip = zipSync(Object.fromEntries(entries.map(([n, chunks]) => [n, concat(chunks)])), {
        level: 0,
      });
      download(
        `${safeName(a?.name ?? 'model')}-merged.zip`,
        zip as Uint8Array<ArrayBuffer>,
        'application/zip',
      );
    } else
      for (const [name, chunks] of entries) download(name, new Blob(chunks as Uint8Array<ArrayBuffer>[]));
  } catch (e) {
    report(e, 'export failed');
  }
}

function concat(chunks: Uint8Array[]): Uint8Array {
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
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
  if (!ok)
    st().notify(
      'info',
      'the browser did not grant persistent storage; data may be evicted under storage pressure',
    );
  await refreshStorage();
}
