// Data tab: several named datasets, an editable table, import (JSON / JSONL / CSV / TSV, format detected
// per row, previewed with per-row errors and line numbers before it is stored), JSONL export, the validation split, token statistics against
// max length, and the chat-template preview with trained tokens highlighted.
import { useState } from 'react';
import { useStudio } from '../../state/store';
import {
  exportJsonl,
  newDataset,
  previewImport,
  removeDataset,
  selectDataset,
  updateDataset,
} from '../actions/data';
import { NumberInput } from '../NumberInput';
import { Card, Empty, Field } from '../common';
import { DataStats } from './DataStats';
import { DataTools } from './DataTools';
import { DataTable } from './DataTable';
import { loadExampleDataset } from './example';
import { ImportPreview } from './ImportPreview';
import { TemplatePreview } from './TemplatePreview';

/** Rows held out, as the training run splits them: round(n · split), at least one when split > 0. */
const valRows = (n: number, split: number) => (split > 0 && n > 0 ? Math.max(1, Math.round(n * split)) : 0);

function ImportReport() {
  const r = useStudio((s) => s.importReport);
  const clear = useStudio((s) => s.setImportReport);
  if (!r) return null;
  const formats = Object.entries(r.formats)
    .map(([k, v]) => `${v} ${k}`)
    .join(', ');
  return (
    <div
      className={`import-report ${r.errors.length ? 'has-errors' : ''}`}
      aria-label="Import report"
      role="region"
    >
      <div className="inline">
        <strong>{r.fileName}</strong>
        <span>
          {r.added} row{r.added === 1 ? '' : 's'} imported{formats ? ` (${formats})` : ''}
          {r.errors.length ? `, ${r.errors.length} skipped` : ''}
        </span>
        <button className="ghost small" aria-label="Close import report" onClick={() => clear(null)}>
          ×
        </button>
      </div>
      {r.errors.length > 0 && (
        <ul className="issues" aria-label="Import errors">
          {r.errors.slice(0, 200).map((e, i) => (
            <li key={i}>
              <span className="mono where">{e.where}</span> {e.message}
            </li>
          ))}
          {r.errors.length > 200 && <li>… and {r.errors.length - 200} more</li>}
        </ul>
      )}
    </div>
  );
}

function Toolbar() {
  const datasets = useStudio((s) => s.datasets);
  const activeId = useStudio((s) => s.activeDatasetId);
  const ds = datasets.find((d) => d.id === activeId);
  const [confirm, setConfirm] = useState(false);
  const [into, setInto] = useState<'new' | 'active'>('new');
  return (
    <div className="toolbar">
      <label className="inline">
        <span>Dataset</span>
        <select
          aria-label="Dataset"
          value={activeId ?? ''}
          onChange={(e) => selectDataset(e.target.value)}
          disabled={!datasets.length}
        >
          {datasets.length === 0 && <option value="">none yet</option>}
          {datasets.map((d) => (
            <option key={d.id} value={d.id}>
              {d.name} ({d.rows.length})
            </option>
          ))}
        </select>
      </label>
      <button onClick={() => void newDataset()}>New dataset</button>
      <button
        onClick={() => void loadExampleDataset()}
        title="48 chat pairs that teach the embedded model a dictionary-entry answer format, and 32 prompts on other words"
      >
        Load the example dataset
      </button>
      {ds && (
        <input
          aria-label="Dataset name"
          className="name-input"
          value={ds.name}
          onChange={(e) => updateDataset(ds.id, { name: e.target.value })}
        />
      )}
      <span className="spacer" />
      <label className="button primary">
        Import file…
        <input
          type="file"
          className="sr-only"
          aria-label="Import dataset file"
          accept=".json,.jsonl,.ndjson,.csv,.tsv,application/json,text/csv"
          onChange={(e) => {
            const f = e.target.files?.[0];
            if (f) void previewImport(f, into);
            e.target.value = '';
          }}
        />
      </label>
      <select
        aria-label="Import into"
        value={into}
        onChange={(e) => setInto(e.target.value as 'new' | 'active')}
      >
        <option value="new">as a new dataset</option>
        <option value="active" disabled={!ds}>
          appended to this dataset
        </option>
      </select>
      {ds && <button onClick={() => exportJsonl(ds)}>Export JSONL</button>}
      {ds && !confirm && (
        <button className="ghost danger" onClick={() => setConfirm(true)}>
          Delete dataset
        </button>
      )}
      {ds && confirm && (
        <>
          <button
            className="danger"
            onClick={() => {
              setConfirm(false);
              void removeDataset(ds.id);
            }}
          >
            Confirm delete
          </button>
          <button className="ghost" onClick={() => setConfirm(false)}>
            Keep
          </button>
        </>
      )}
    </div>
  );
}

export function DataTab() {
  const ds = useStudio((s) => s.datasets.find((d) => d.id === s.activeDatasetId));
  return (
    <div className="stack">
      <Card>
        <Toolbar />
        <ImportPreview />
        <ImportReport />
      </Card>
      {!ds ? (
        <Card>
          <Empty>
            No dataset yet. Create one and type rows (instruction → output), or import a file: JSONL/JSON with
            messages, instruction/input/output (alpaca), conversations (ShareGPT), prompt/completion, text or
            input_ids rows; CSV/TSV with a header row.
          </Empty>
        </Card>
      ) : (
        <div className="grid data-grid">
          <Card title={`Rows · ${ds.rows.length}`}>
            <DataTable ds={ds} />
          </Card>
          <div className="stack">
            <Card title="Split and lengths">
              <Field
                label="Validation split"
                help="Fraction of rows held out to measure validation loss (0 = none)."
              >
                {(id, d) => (
                  <NumberInput
                    id={id}
                    describedBy={d}
                    className="short"
                    rule={{ min: 0, max: 0.9 }}
                    value={ds.valSplit}
                    onCommit={(valSplit) => updateDataset(ds.id, { valSplit })}
                  />
                )}
              </Field>
              <div className="muted small">
                {valRows(ds.rows.length, ds.valSplit)} validation rows,{' '}
                {ds.rows.length - valRows(ds.rows.length, ds.valSplit)} training rows
              </div>
              <DataStats />
            </Card>
            <Card title="Template preview">
              <TemplatePreview />
            </Card>
          </div>
        </div>
      )}
      {ds && <DataTools ds={ds} />}
    </div>
  );
}
