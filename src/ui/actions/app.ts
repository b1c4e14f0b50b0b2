// Start-up and shared helpers for the page's actions: open storage, restore settings, datasets, runs and
// adapters, ask for persistent storage, and start the engine worker's runtime. Also what outlives a tab's
// engine: runs owned by another tab (Web Locks), a worker that died, and leaving the page mid-run.
import { defaultTrainConfig } from '../../engine/train/config';
import * as storage from '../../storage';
import { useStudio } from '../../state/store';
import { liveRun } from '../../state/train';
import { engine, errorText, isCancelled, onEngineLost } from '../engine';
import { interruptLiveRun } from './train';

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

/** Ids of runs whose lock some engine holds (this tab's or another's). */
async function heldRunIds(): Promise<Set<string>> {
  const locks = globalThis.navigator?.locks;
  if (!locks) return new Set();
  const prefix = storage.runLockName('');
  const held = (await locks.query()).held ?? [];
  return new Set(
    held
      .map((l) => l.name ?? '')
      .filter((n) => n.startsWith(prefix))
      .map((n) => n.slice(prefix.length)),
  );
}

const watched = new Set<string>();
/**
 * Runs this tab's engine worker has opened: their locks are this tab's, never another tab's (between a run's
 * end and the worker releasing its lock, the run is no longer live here but still locked).
 */
export const trainedHere = new Set<string>();
let poll: ReturnType<typeof setTimeout> | undefined;

/** Waits for the owner of a run in another tab to go; then the run is interrupted (if it still ran). */
function watchOwner(runId: string) {
  const locks = globalThis.navigator?.locks;
  if (!locks || watched.has(runId)) return;
  watched.add(runId);
  void locks
    .request(storage.runLockName(runId), async () => {
      await storage.interruptRun(await db(), runId, 'the tab that was training it was closed');
    })
    .catch(() => undefined)
    .finally(() => {
      watched.delete(runId);
      void refreshRuns();
    });
}

/** Reloads the run history, and which runs another tab owns (followed while there are any). */
export async function refreshRuns() {
  const [runs, held] = await Promise.all([storage.listRuns(await db()), heldRunIds()]);
  const mine = liveRun(st())?.runId ?? null;
  const elsewhere = runs
    .filter(
      (r) => held.has(r.id) && r.id !== mine && !trainedHere.has(r.id) && storage.isLiveStatus(r.status),
    )
    .map((r) => r.id);
  st().setRuns(runs, elsewhere);
  for (const id of elsewhere) watchOwner(id);
  clearTimeout(poll);
  if (elsewhere.length) poll = setTimeout(() => void refreshRuns(), 3000);
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
    // runs another tab still owns stay as they are; the others' tabs were closed mid-run
    const held = await heldRunIds();
    await storage.markInterruptedRuns(d, (id) => held.has(id));
    const datasets = await storage.listDatasets(d);
    st().setDatasets(datasets);
    const active = st().settings.activeDatasetId;
    if (active && datasets.some((x) => x.id === active)) st().setActiveDataset(active);
    await Promise.all([refreshRuns(), refreshStorage()]);
  } catch (e) {
    report(e, 'could not open browser storage');
  }
  onEngineLost(() => void engineLost());
  addEventListener('beforeunload', (e) => {
    if (!liveRun(st())) return;
    e.preventDefault(); // the browser asks whether to leave: the run would stop here
  });
  await initDevice();
}

/** The engine worker died: say so, mark the live run interrupted and start a new engine. */
async function engineLost() {
  const why = 'the engine stopped (the browser may have run out of memory)';
  st().setDevice(null);
  st().finishModelLoad(null, `${why}: load the model again`);
  const runMessage = await interruptLiveRun(why);
  st().notify('error', runMessage ?? `${why}; a new one was started: load the model again`);
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
