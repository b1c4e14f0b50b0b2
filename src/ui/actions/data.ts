// Data tab actions: named datasets in IndexedDB (edits saved shortly after typing stops), file import
// through the worker's parser (previewed with per-row errors, stored once confirmed), JSONL export, and
// the token-count preview.
import * as storage from '../../storage';
import type { DataRow, DatasetRecord } from '../../storage';
import { useStudio } from '../../state/store';
import { liveRun } from '../../state/train';
import { engine, errorText } from '../engine';
import { db, download, report, saveSettings } from './app';

const st = () => useStudio.getState();
const pending = new Map<string, ReturnType<typeof setTimeout>>();

export const activeDataset = () => st().datasets.find((d) => d.id === st().activeDatasetId) ?? null;

export async function newDataset(name?: string, rows: DataRow[] = []): Promise<DatasetRecord | null> {
  const taken = new Set(st().datasets.map((d) => d.name));
  let n = st().datasets.length + 1;
  let nm = name ?? `Dataset ${n}`;
  while (taken.has(nm)) nm = name ? `${name} (${++n})` : `Dataset ${++n}`;
  try {
    const rec = await storage.createDataset(await db(), nm, rows, 0.1);
    st().putDataset(rec);
    selectDataset(rec.id);
    return rec;
  } catch (e) {
    report(e);
    return null;
  }
}

export function selectDataset(id: string) {
  st().setActiveDataset(id);
  void saveSettings({ activeDatasetId: id });
  void refreshPreview();
}

/** Updates the dataset in the page at once and in IndexedDB shortly after (edits come per keystroke). */
export function updateDataset(
  id: string,
  patch: Partial<Pick<DatasetRecord, 'rows' | 'name' | 'valSplit'>>,
  delay = 400,
) {
  const cur = st().datasets.find((d) => d.id === id);
  if (!cur) return;
  const next = { ...cur, ...patch };
  st().putDataset(next);
  clearTimeout(pending.get(id));
  pending.set(
    id,
    setTimeout(() => {
      pending.delete(id);
      void persist(id);
    }, delay),
  );
  if (patch.rows) schedulePreview();
}

async function persist(id: string) {
  const rec = st().datasets.find((d) => d.id === id);
  if (!rec) return;
  try {
    await storage.saveDataset(await db(), rec);
  } catch (e) {
    // The edit stays on the page; the next edit tries again.
    if (e instanceof storage.StorageFullError)
      st().notify(
        'error',
        `browser storage is full: your changes to "${rec.name}" stay on this page but are not saved; ` +
          'the stored copy is the one from before. Free space under Adapters & Export → Storage, ' +
          'then edit again to save.',
      );
    else report(e, `changes to "${rec.name}" not saved`);
  }
}

/** Writes pending edits now (before a reload or a training run). */
export async function flushDatasets() {
  const ids = [...pending.keys()];
  for (const id of ids) clearTimeout(pending.get(id));
  pending.clear();
  await Promise.all(ids.map(persist));
}

export async function removeDataset(id: string) {
  const live = liveRun(st());
  if (live && live.datasetId === id)
    return st().notify(
      'error',
      `the dataset cannot be deleted while run "${live.name}" trains on it: stop the run first`,
    );
  clearTimeout(pending.get(id));
  pending.delete(id);
  try {
    await storage.deleteDataset(await db(), id);
    st().removeDataset(id);
  } catch (e) {
    report(e);
  }
}

/** Parses a chosen file in the worker and holds it for review (ImportPreview): nothing is stored yet. */
export async function previewImport(file: File, into: 'new' | 'active') {
  st().setImportReport(null); // the last import's report no longer applies
  st().setPendingImport(null);
  try {
    const text = await file.text();
    const result = await engine().importDataset(text, file.name);
    st().setPendingImport({ fileName: file.name, into, result });
  } catch (e) {
    report(e, `could not import ${file.name}`);
  }
}

export function cancelImport() {
  st().setPendingImport(null);
}

/** Stores the reviewed rows: a new dataset named after the file, or appended to the active one. */
export async function commitImport() {
  const p = st().pendingImport;
  if (!p) return;
  st().setPendingImport(null);
  const { fileName, result: res } = p;
  const summary = { fileName, added: res.rows.length, errors: res.errors, formats: res.formats };
  const target = p.into === 'active' ? activeDataset() : null;
  if (res.rows.length === 0) st().setImportReport(summary);
  else if (target) {
    updateDataset(target.id, { rows: [...target.rows, ...res.rows] }, 0);
    st().setImportReport(summary);
  } else {
    // The report is shown only once the new dataset is stored (a full disk reports an error instead);
    // it comes after newDataset, which clears the report when it selects the new dataset.
    const rec = await newDataset(fileName.replace(/\.(jsonl|ndjson|json|csv|tsv)$/i, ''), res.rows);
    if (rec) st().setImportReport(summary);
  }
}

export function exportJsonl(rec: DatasetRecord) {
  const text = rec.rows.map((r) => JSON.stringify(r)).join('\n') + (rec.rows.length ? '\n' : '');
  download(`${rec.name.replace(/[^\w.-]+/g, '_') || 'dataset'}.jsonl`, text, 'application/jsonl');
}

let previewTimer: ReturnType<typeof setTimeout> | undefined;
let previewSeq = 0;

export function schedulePreview(delay = 500) {
  clearTimeout(previewTimer);
  previewTimer = setTimeout(() => void refreshPreview(), delay);
}

/** Token counts and the template preview for the active dataset (needs a loaded model). */
export async function refreshPreview() {
  const ds = activeDataset();
  const s = st();
  if (!ds || s.modelStatus !== 'ready') {
    s.setPreview(null, null);
    return;
  }
  const seq = ++previewSeq;
  try {
    const p = await engine().previewData({
      rows: ds.rows,
      maxLen: s.trainForm.maxLen,
      trainOnPrompt: s.trainForm.trainOnPrompt,
      index: Math.min(s.previewRow, ds.rows.length - 1),
      name: ds.name,
    });
    if (seq === previewSeq) st().setPreview(p);
  } catch (e) {
    if (seq === previewSeq) st().setPreview(null, errorText(e));
  }
}
