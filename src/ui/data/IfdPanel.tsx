// Instruction-Following Difficulty per row (DESIGN §9 `data score`, computed in the worker with the loaded
// model) and the Cherry selection: keep the top k % of rows by IFD. Rows without an IFD (no single trained
// span of ≥ 2 tokens) are not kept by the selection.
import { useState } from 'react';
import { instructionOf } from '../../data/instruction';
import { useStudio } from '../../state/store';
import type { DatasetRecord } from '../../storage/db';
import { updateDataset } from '../actions/data';
import { cb, engine, errorText, isCancelled, newJobId } from '../engine';
import { NumberField, ProgressBar } from '../common';
import { topByIfd } from './ifd';

export function IfdPanel(props: { ds: DatasetRecord }) {
  const ready = useStudio((s) => s.modelStatus === 'ready');
  const [scores, setScores] = useState<{ rows: DatasetRecord['rows']; ifd: (number | null)[] } | null>(null);
  const [progress, setProgress] = useState<[number, number] | null>(null);
  const [jobId, setJobId] = useState<string | null>(null);
  const [pct, setPct] = useState(50);
  const [error, setError] = useState<string | null>(null);
  const score = async () => {
    const id = newJobId('ifd');
    setJobId(id);
    setError(null);
    setProgress([0, props.ds.rows.length]);
    try {
      const rows = props.ds.rows;
      const ifd = await engine().scoreIfd(
        rows,
        null,
        1024,
        cb((d: number, n: number) => setProgress([d, n])),
        id,
      );
      setScores({ rows, ifd });
    } catch (e) {
      if (!isCancelled(e)) setError(errorText(e));
    } finally {
      setJobId(null);
      setProgress(null);
    }
  };
  const current = scores && scores.rows === props.ds.rows ? scores : null;
  const keep = current ? topByIfd(current.ifd, pct) : [];
  const order = current
    ? current.ifd.map((s, i) => ({ s, i })).sort((a, b) => (b.s ?? -Infinity) - (a.s ?? -Infinity))
    : [];
  return (
    <div className="stack">
      <div className="tool-row">
        <button disabled={!ready || jobId !== null} onClick={() => void score()}>
          Score IFD
        </button>
        {jobId && (
          <button className="ghost" onClick={() => void engine().cancel(jobId)}>
            Cancel scoring
          </button>
        )}
        {!ready && <span className="muted small">Load a model first: IFD uses its losses.</span>}
      </div>
      {progress && (
        <ProgressBar
          label="IFD progress"
          value={progress[0]}
          max={progress[1]}
          detail={`${progress[0]} / ${progress[1]} rows`}
        />
      )}
      {error && <div className="banner bad">{error}</div>}
      {current && (
        <div role="region" aria-label="IFD scores" className="stack">
          <div className="tool-row">
            <NumberField
              label="Keep the top k %"
              help="Cherry selection: the rows whose answers the instruction helps least (highest IFD)."
              value={pct}
              min={1}
              max={100}
              onChange={setPct}
            />
            <button
              className="primary"
              disabled={keep.length === 0}
              onClick={() => {
                updateDataset(props.ds.id, { rows: keep.map((i) => current.rows[i]) }, 0);
                setScores(null);
              }}
            >
              Keep {keep.length} of {current.rows.length} rows
            </button>
          </div>
          <div className="table-wrap">
            <table aria-label="Rows by IFD">
              <thead>
                <tr>
                  <th scope="col" className="num">
                    Row
                  </th>
                  <th scope="col" className="num">
                    IFD
                  </th>
                  <th scope="col">Instruction</th>
                </tr>
              </thead>
              <tbody>
                {order.slice(0, 100).map(({ s, i }) => (
                  <tr key={i} className={keep.includes(i) ? '' : 'muted'}>
                    <td className="num">{i + 1}</td>
                    <td className="num">{s === null ? '–' : s.toFixed(3)}</td>
                    <td>{instructionOf(current.rows[i]) ?? '(no instruction)'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </div>
      )}
    </div>
  );
}
