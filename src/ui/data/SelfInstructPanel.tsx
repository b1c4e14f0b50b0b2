// Self-Instruct with the loaded model (DESIGN §9 `data generate`): the dataset's instructions are the seed
// tasks; generation runs in the worker with a progress bar and cancel (a cancel keeps what was kept), the
// rejections are counted by reason, and the user keeps or drops each generated row before it joins the dataset.
import { useState } from 'react';
import { seedInstructions, type GeneratedRow, type SelfInstructResult } from '../../data/selfinstruct';
import { useStudio } from '../../state/store';
import type { DatasetRecord } from '../../storage/db';
import { updateDataset } from '../actions/data';
import { cb, engine, errorText, newJobId } from '../engine';
import { NumberField, ProgressBar } from '../common';

export function SelfInstructPanel(props: { ds: DatasetRecord }) {
  const ready = useStudio((s) => s.modelStatus === 'ready');
  const [n, setN] = useState(5);
  const [temperature, setTemperature] = useState(0.7);
  const [seed, setSeed] = useState(0);
  const [jobId, setJobId] = useState<string | null>(null);
  const [progress, setProgress] = useState<{ kept: number; attempts: number; n: number; max: number } | null>(
    null,
  );
  const [result, setResult] = useState<SelfInstructResult | null>(null);
  const [keep, setKeep] = useState<boolean[]>([]);
  const [error, setError] = useState<string | null>(null);
  const run = async () => {
    setError(null);
    setResult(null);
    let seeds: string[];
    try {
      seeds = seedInstructions(props.ds.rows);
    } catch (e) {
      return setError(errorText(e));
    }
    const id = newJobId('self-instruct');
    setJobId(id);
    setProgress({ kept: 0, attempts: 0, n, max: 0 });
    try {
      const r = await engine().selfInstruct(
        { seeds, n, temperature, seed, adapterId: null },
        cb((p: { kept: number; attempts: number; n: number; maxAttempts: number }) =>
          setProgress({ kept: p.kept, attempts: p.attempts, n: p.n, max: p.maxAttempts }),
        ),
        id,
      );
      setResult(r);
      setKeep(r.rows.map(() => true));
    } catch (e) {
      setError(errorText(e));
    } finally {
      setJobId(null);
      setProgress(null);
    }
  };
  const chosen = result ? result.rows.filter((_, i) => keep[i]) : [];
  const reasons = result
    ? Object.entries(result.rejected).map(([k, v]) => `${v} ${k.replace(/_/g, ' ')}`)
    : [];
  return (
    <div className="stack">
      <div className="muted small">
        Seed tasks: the instructions of this dataset ({props.ds.rows.length} rows). New instructions must have
        ROUGE-L below 0.7 against every seed and kept row.
      </div>
      <div className="tool-row">
        <NumberField label="Rows to generate" value={n} integer min={1} max={500} onChange={setN} />
        <NumberField label="Temperature" value={temperature} min={0} max={2} onChange={setTemperature} />
        <NumberField label="Generation seed" value={seed} integer min={0} onChange={setSeed} />
        <button className="primary" disabled={!ready || jobId !== null} onClick={() => void run()}>
          Generate rows
        </button>
        {jobId && (
          <button className="ghost" onClick={() => void engine().cancel(jobId)}>
            Cancel generation
          </button>
        )}
      </div>
      {progress && (
        <ProgressBar
          label="Self-Instruct progress"
          value={progress.kept}
          max={progress.n}
          detail={`kept ${progress.kept} / ${progress.n} after ${progress.attempts} attempts${progress.max ? ` (at most ${progress.max})` : ''}`}
        />
      )}
      {error && (
        <div className="banner bad" role="alert">
          {error}
        </div>
      )}
      {result && (
        <div role="region" aria-label="Generated rows" className="stack">
          <div>
            {result.cancelled ? 'Cancelled: ' : ''}kept {result.rows.length} after {result.attempts} attempts
            {reasons.length ? `; rejected: ${reasons.join(', ')}` : ''}.
          </div>
          <ul className="issues">
            {result.rows.map((r: GeneratedRow, i) => (
              <li key={i}>
                <label className="inline checkbox">
                  <input
                    type="checkbox"
                    aria-label={`Keep generated row ${i + 1}`}
                    checked={keep[i] ?? false}
                    onChange={(e) => setKeep(keep.map((k, j) => (j === i ? e.target.checked : k)))}
                  />
                  <span>
                    <strong>{r.instruction}</strong>
                    {r.input ? ` · ${r.input}` : ''} → {r.output}
                  </span>
                </label>
              </li>
            ))}
          </ul>
          <button
            className="primary"
            disabled={chosen.length === 0}
            onClick={() => {
              updateDataset(props.ds.id, { rows: [...props.ds.rows, ...chosen.map((r) => ({ ...r }))] }, 0);
              setResult(null);
            }}
          >
            Add {chosen.length} kept row{chosen.length === 1 ? '' : 's'} to this dataset
          </button>
        </div>
      )}
    </div>
  );
}
