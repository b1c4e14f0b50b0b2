// Near-duplicate removal (Self-Instruct's ROUGE-L filter, DESIGN §9) shown as groups: each kept row with the
// rows that duplicate it; the user confirms which to remove before the dataset changes.
import { useState } from 'react';
import { dedupe, DEFAULT_ROUGE_THRESHOLD, type Removal } from '../../data/dedupe';
import { instructionOf } from '../../data/instruction';
import type { DatasetRecord } from '../../storage/db';
import { updateDataset } from '../actions/data';
import { NumberField } from '../common';

const label = (r: Record<string, unknown>) => instructionOf(r) ?? JSON.stringify(r).slice(0, 120);

export function DedupePanel(props: { ds: DatasetRecord }) {
  const [threshold, setThreshold] = useState(DEFAULT_ROUGE_THRESHOLD);
  const [found, setFound] = useState<{ rows: DatasetRecord['rows']; removed: Removal[] } | null>(null);
  const [drop, setDrop] = useState<Set<number>>(new Set());
  const groups = new Map<number, Removal[]>();
  for (const r of found?.removed ?? []) groups.set(r.of, [...(groups.get(r.of) ?? []), r]);
  const stale = found !== null && found.rows !== props.ds.rows;
  return (
    <div className="stack">
      <div className="tool-row">
        <NumberField
          label="ROUGE-L threshold"
          help="A row goes when its instruction has ROUGE-L ≥ this with an earlier kept row's; exact copies go too."
          value={threshold}
          min={0.05}
          max={1}
          onChange={setThreshold}
        />
        <button
          onClick={() => {
            const r = dedupe(props.ds.rows, threshold);
            setFound({ rows: props.ds.rows, removed: r.removed });
            setDrop(new Set(r.removed.map((x) => x.index)));
          }}
        >
          Find duplicates
        </button>
      </div>
      {found && !stale && (
        <div role="region" aria-label="Duplicate groups" className="stack">
          {found.removed.length === 0 ? (
            <div className="muted">No duplicates at this threshold.</div>
          ) : (
            <>
              <div>
                {found.removed.length} row{found.removed.length === 1 ? '' : 's'} in {groups.size} group
                {groups.size === 1 ? '' : 's'} duplicate an earlier row. Untick a row to keep it.
              </div>
              <ul className="issues">
                {[...groups].map(([keep, dups]) => (
                  <li key={keep}>
                    <div>
                      <strong>Row {keep + 1} (kept):</strong> {label(found.rows[keep])}
                    </div>
                    {dups.map((d) => (
                      <label key={d.index} className="inline checkbox">
                        <input
                          type="checkbox"
                          aria-label={`Remove row ${d.index + 1}`}
                          checked={drop.has(d.index)}
                          onChange={(e) => {
                            const next = new Set(drop);
                            if (e.target.checked) next.add(d.index);
                            else next.delete(d.index);
                            setDrop(next);
                          }}
                        />
                        Row {d.index + 1} (
                        {d.reason === 'exact' ? 'exact copy' : `ROUGE-L ${d.rougeL.toFixed(2)}`}):{' '}
                        {label(found.rows[d.index])}
                      </label>
                    ))}
                  </li>
                ))}
              </ul>
              <button
                className="primary"
                disabled={drop.size === 0}
                onClick={() => {
                  updateDataset(props.ds.id, { rows: found.rows.filter((_, i) => !drop.has(i)) }, 0);
                  setFound(null);
                }}
              >
                Remove {drop.size} selected row{drop.size === 1 ? '' : 's'}
              </button>
            </>
          )}
        </div>
      )}
    </div>
  );
}
