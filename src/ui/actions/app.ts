// Start-up and shared helpers for the page's actions: open storage, restore settings, datasets, runs and
// adapters, ask for persistent storage, and start the engine worker's runtime.
import { defaultTrainConfig } from '../../engine/train/config';
import * as storage from '../../storage';
import { useStudio } from '../../state/store';
import { engine, errorText, isCancelled } from '../engine';

export const db = () => storage.openStudioDB();
const st = () => useStudio.getState();

/** Shows an error the user can read (UserError messages name the file and line). */
export function report(e: unknown, prefix?: string) {
  if (isCancelled(e)) return;
  console.error(e);
  st().notify('error', prefix ? `${prefix}: ${errorText(e)}` : errorText(e));
}

export async function refreshStorage() {
  const d = await db();
  const [estimate, cached, adapters] = await Promise.all([
    storage.estimateStorage(),
    storage.listCachedModels(d),
    storage.listAdapters(d),
  ]);
  st().setStorage(estimate);
  st().setCachedModels(cached);
  st().setAdapters(adapters);
}

export async function refreshRuns() {
  st().setRuns(await storage.listRuns(await db()));
}

export async function saveSettings(patch: Partial<storage.Settings>) {
  st().setSettings(patch);
  try {
    await storage.saveSettings(await db(), patch);
  } catch (e) {
    report(e, 'settings not saved');
  }
}

let formTimer: ReturnType<typeof setTimeout> | undefined;

/** Keeps the Train form across reloads (saved shortly after the last edit). */
export function saveTrainForm() {
  clearTimeout(formTimer);
  formTimer = setTimeout(() => void saveSettings({ trainForm: { ...st().trainForm } }), 500);
}

function restoreTrainForm() {
  const saved = st().settings.trainForm;
  if (!saved) return;
  const known = Object.keys(defaultTrainConfig);
  st().setTrainForm(Object.fromEntries(Object.entries(saved).filter(([k]) => known.includes(k))));
}

export async function initDevice() {
  try {
    st().setDevice(await engine().init(st().settings.backend));
  } catch (e) {
    st().setDevice(null, errorText(e));
  }
}

export async function startup() {
  try {
    const d = await db();
    await storage.requestPersistence();
    st().setSettings(await storage.loadSettings(d));
    restoreTrainForm();
    await storage.markInterruptedRuns(d);
    const datasets = await storage.listDatasets(d);
    st().setDatasets(datasets);
    const active = st().settings.activeDatasetId;
    if (active && datasets.some((x) => x.id === active)) st().setActiveDataset(active);
    await Promise.all([refreshRuns(), refreshStorage()]);
  } catch (e) {
    report(e, 'could not open browser storage');
  }
  await initDevice();
}

/** Offers bytes as a file download. */
export function download(name: string, data: BlobPart | Blob, type = 'application/octet-stream') {
  const url = URL.createObjectURL(data instanceof Blob ? data : new Blob([data], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
