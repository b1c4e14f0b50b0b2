// Rows from labelled data (the survey's "data integration"): pick a CSV/JSONL file with any columns, write
// instruction templates with {column} slots (several phrasings, one chosen per row with the seed), preview,
// and add the rows to the dataset. A template naming a missing column is one message; nothing is added.
import { useState } from 'react';
import { readRecords, type RecordFile } from '../../data/records';
import { applyTemplates, type TemplateResult } from '../../data/template';
import type { DatasetRecord } from '../../storage/db';
import { updateDataset } from '../actions/data';
import { errorText } from '../engine';
import { Field, NumberField } from '../common';

export function TemplateBuilder(props: { ds: DatasetRecord }) {
  const [file, setFile] = useState<(RecordFile & { name: string }) | null>(null);
  const [instructions, setInstructions] = useState('');
  const [input, setInput] = useState('');
  const [output, setOutput] = useState('');
  const [seed, setSeed] = useState(0);
  const [result, setResult] = useState<TemplateResult | null>(null);
  const [error, setError] = useState<string | null>(null);
  const build = () => {
    setResult(null);
    setError(null);
    try {
      if (!file) throw new Error('choose a labelled data file first');
      setResult(
        applyTemplates(file.records, file.columns, {
          instructions: instructions.split('\n').filter((l) => l.trim() !== ''),
          input: input.trim() ? input : undefined,
          output,
          seed,
        }),
      );
    } catch (e) {
      setError(errorText(e));
    }
  };
  return (
    <div className="stack">
      <label className="button">
        Choose labelled data…
        <input
          type="file"
          className="sr-only"
          aria-label="Labelled data file"
          accept=".csv,.tsv,.json,.jsonl"
          onChange={async (e) => {
            const f = e.target.files?.[0];
            e.target.value = '';
            if (!f) return;
            setResult(null);
            try {
              setFile({ ...readRecords(await f.text(), f.name), name: f.name });
              setError(null);
            } catch (err) {
              setFile(null);
              setError(errorText(err));
            }
          }}
        />
      </label>
      {file && (
        <div className="muted small" aria-label="Columns">
          {file.name}: {file.records.length} rows; columns {file.columns.map((c) => `{${c}}`).join(' ')}
        </div>
      )}
      <Field
        label="Instruction templates"
        help="One phrasing per line; each row gets one, chosen with the seed."
      >
        {(id, d) => (
          <textarea
            id={id}
            aria-describedby={d}
            rows={3}
            value={instructions}
            onChange={(e) => setInstructions(e.target.value)}
          />
        )}
      </Field>
      <Field label="Input template" help="Optional (alpaca input), e.g. {text}.">
        {(id, d) => (
          <input id={id} aria-describedby={d} value={input} onChange={(e) => setInput(e.target.value)} />
        )}
      </Field>
      <Field label="Output template" help="The answer, e.g. {label}.">
        {(id, d) => (
          <input id={id} aria-describedby={d} value={output} onChange={(e) => setOutput(e.target.value)} />
        )}
      </Field>
      <NumberField label="Template seed" value={seed} integer min={0} onChange={setSeed} />
      <button onClick={build}>Preview rows</button>
      {error && (
        <div className="banner bad" role="alert">
          {error}
        </div>
      )}
      {result && (
        <div role="region" aria-label="Template preview rows" className="stack">
          <div>
            {result.rows.length} rows
            {result.skipped.length ? `, ${result.skipped.length} skipped (empty answer)` : ''}
          </div>
          <ul className="issues">
            {result.rows.slice(0, 5).map((r, i) => (
              <li key={i}>
                <strong>{r.instruction}</strong>
                {r.input ? ` · ${r.input}` : ''} → {r.output}
              </li>
            ))}
          </ul>
          <button
            className="primary"
            disabled={result.rows.length === 0}
            onClick={() => {
              updateDataset(props.ds.id, { rows: [...props.ds.rows, ...result.rows] }, 0);
              setResult(null);
            }}
          >
            Add {result.rows.length} rows to this dataset
          </button>
        </div>
      )}
    </div>
  );
}
