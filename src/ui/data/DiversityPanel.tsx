// Dataset size and diversity (DESIGN §9 `data stats`): rows per kind, tokens and trained tokens (counted by
// the loaded model's tokenizer in the worker), a length histogram, duplicates and the leading verbs of the
// instructions (Self-Instruct's diversity view). The numbers are the CLI's for the same rows.
import { useState } from 'react';
import { datasetStats, type DatasetStats } from '../../data/stats';
import { useStudio } from '../../state/store';
import type { DatasetRecord } from '../../storage/db';
import { engine, errorText } from '../engine';
import { Stat } from '../common';

export function DiversityPanel(props: { ds: DatasetRecord }) {
  const [stats, setStats] = useState<DatasetStats | null>(null);
  const [error, setError] = useState<string | null>(null);
  const ready = useStudio((s) => s.modelStatus === 'ready');
  const compute = async () => {
    setError(null);
    try {
      const tokens = ready ? await engine().rowTokens(props.ds.rows, 1024) : undefined;
      setStats(datasetStats(props.ds.rows, tokens));
    } catch (e) {
      setError(errorText(e));
    }
  };
  const most = stats ? Math.max(1, ...stats.length_histogram.bins.map((b) => b.count)) : 1;
  return (
    <div className="stack">
      <button onClick={() => void compute()}>Compute statistics</button>
      {error && <div className="banner bad">{error}</div>}
      {stats && (
        <div role="region" aria-label="Size and diversity" className="stack">
          <div className="stats">
            <Stat label="Rows" value={stats.rows} />
            <Stat label="Tokens" value={stats.tokens ?? '– (load a model)'} />
            <Stat label="Trained tokens" value={stats.trained_tokens ?? '–'} />
            <Stat label="Exact duplicates" value={stats.duplicates.exact} />
            <Stat label="Near duplicates" value={stats.duplicates.near} />
            <Stat label="Distinct leading verbs" value={stats.leading_verbs.distinct} />
          </div>
          <div className="muted small">
            Kinds:{' '}
            {Object.entries(stats.kinds)
              .map(([k, n]) => `${n} ${k}`)
              .join(', ')}
          </div>
          <div>
            <div className="muted small">Length ({stats.length_histogram.unit}) per bin</div>
            <div className="histogram" role="img" aria-label="Length histogram">
              {stats.length_histogram.bins.map((b) => (
                <div
                  key={b.min}
                  style={{ height: `${(100 * b.count) / most}%` }}
                  title={`${b.min}–${b.max - 1}: ${b.count} rows`}
                />
              ))}
            </div>
            <div className="histogram-labels muted small">
              <span>0</span>
              <span>{stats.length_histogram.bins[stats.length_histogram.bins.length - 1].max}</span>
            </div>
          </div>
          <div aria-label="Leading verbs">
            <span className="muted small">Leading verbs: </span>
            {stats.leading_verbs.top.map((v) => `${v.verb} (${v.count})`).join(', ') || 'no instructions'}
          </div>
        </div>
      )}
    </div>
  );
}
