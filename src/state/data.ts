// Data slice: the named datasets (rows as the user wrote them), the active one, a parsed file waiting for
// the user to confirm its import, the last import report and the token-count preview from the worker.
import type { StateCreator } from 'zustand';
import type { DataIssue } from '../data/formats';
import type { DataPreview, ImportResult } from '../../workers/api';
import type { DatasetRecord } from '../storage/db';
import type { StudioState } from './store';

export interface ImportReport {
  fileName: string;
  added: number;
  errors: DataIssue[];
  formats: Record<string, number>;
}

/** A parsed file shown for review before anything is stored. */
export interface PendingImport {
  fileName: string;
  into: 'new' | 'active';
  result: ImportResult;
}

export interface DataSlice {
  datasets: DatasetRecord[];
  activeDatasetId: string | null;
  importReport: ImportReport | null;
  pendingImport: PendingImport | null;
  preview: DataPreview | null;
  previewError: string | null;
  /** Row shown in the template preview. */
  previewRow: number;
  setDatasets(list: DatasetRecord[]): void;
  putDataset(rec: DatasetRecord): void;
  removeDataset(id: string): void;
  setActiveDataset(id: string | null): void;
  setImportReport(r: ImportReport | null): void;
  setPendingImport(p: PendingImport | null): void;
  setPreview(p: DataPreview | null, error?: string | null): void;
  setPreviewRow(i: number): void;
}

export const createDataSlice: StateCreator<StudioState, [], [], DataSlice> = (set) => ({
  datasets: [],
  activeDatasetId: null,
  importReport: null,
  pendingImport: null,
  preview: null,
  previewError: null,
  previewRow: 0,
  setDatasets: (datasets) =>
    set((s) => ({
      datasets,
      activeDatasetId: datasets.some((d) => d.id === s.activeDatasetId)
        ? s.activeDatasetId
        : (datasets[0]?.id ?? null),
    })),
  putDataset: (rec) =>
    set((s) => {
      const i = s.datasets.findIndex((d) => d.id === rec.id);
      const datasets = i < 0 ? [...s.datasets, rec] : s.datasets.map((d) => (d.id === rec.id ? rec : d));
      return { datasets };
    }),
  removeDataset: (id) =>
    set((s) => {
      const datasets = s.datasets.filter((d) => d.id !== id);
      return {
        datasets,
        activeDatasetId: s.activeDatasetId === id ? (datasets[0]?.id ?? null) : s.activeDatasetId,
      };
    }),
  setActiveDataset: (id) => set({ activeDatasetId: id, importReport: null, preview: null, previewRow: 0 }),
  setImportReport: (importReport) => set({ importReport }),
  setPendingImport: (pendingImport) => set({ pendingImport }),
  setPreview: (preview, previewError = null) => set({ preview, previewError }),
  setPreviewRow: (previewRow) => set({ previewRow }),
});
