// Evaluate tab (DESIGN §9): the loaded model with a library adapter against the base on a run's held-out
// rows or any dataset; per-row answers side by side, a summary (exact, ROUGE-L, loss — the numbers the
// CLI's `evaluate` gives), pairwise votes with the win rate and its Wilson interval, reports stored with
// the run and exported as JSON or CSV.
import { useStudio } from '../../state/store';
import { Card, Empty, Field, NumberField, ProgressBar, Stat } from '../common';
import { EvalTable } from './EvalTable';
import { winRate } from './report';
import { useEvaluation } from './useEvaluation';

const pct = (x: number) => (Number.isFinite(x) ? `${(100 * x).toFixed(0)} %` : '–');
const num = (x: number | null | undefined) =>
  x === null || x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(3);

export function EvaluateTab() {
  const e = useEvaluation();
  const adapters = useStudio((s) => s.adapters);
  const datasets = useStudio((s) => s.datasets);
  const ready = useStudio((s) => s.modelStatus === 'ready');
  const report = e.evaluation?.report;
  const w = e.evaluation ? winRate(e.evaluation.votes) : null;
  const heldOut = e.run ? `Held-out rows of run "${e.run.name}"` : 'Held-out rows of the adapter’s run';
  return (
    <div className="stack">
      <Card title="Evaluate on held-out prompts">
        {!ready && (
          <Empty>Load a model on the Model tab first; then pick an adapter and the rows to evaluate.</Empty>
        )}
        <div className="form-grid">
          <Field label="Adapter" help="The tuned model: a library adapter on the loaded base model.">
            {(id, d) => (
              <select
                id={id}
                aria-describedby={d}
                value={e.adapterId ?? ''}
                onChange={(x) => e.setAdapterId(x.target.value || null)}
              >
                <option value="">none (the base model alone)</option>
                {adapters.map((a) => (
                  <option key={a.id} value={a.id}>
                    {a.name}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <Field
            label="Rows to evaluate"
            help="A run's held-out split (the rows its training never saw) or any dataset."
          >
            {(id, d) => (
              <select
                id={id}
                aria-describedby={d}
                value={e.source}
                onChange={(x) => e.setSource(x.target.value)}
              >
                <option value="heldout">{heldOut}</option>
                {datasets.map((ds) => (
                  <option key={ds.id} value={ds.id}>
                    Dataset “{ds.name}” ({ds.rows.length} rows)
                  </option>
                ))}
              </select>
            )}
          </Field>
          <NumberField
            label="Answer length (tokens)"
            help="Greedy answers stop at the end-of-turn token or after this many tokens."
            value={e.maxNewTokens}
            integer
            min={1}
            max={1024}
            onChange={e.setMaxNewTokens}
          />
          <label className="inline checkbox">
            <input
              type="checkbox"
              checked={e.compare}
              disabled={!e.adapterId}
              onChange={(x) => e.setCompare(x.target.checked)}
            />
            Compare with the base model
          </label>
        </div>
        <div className="inline">
          <button className="primary" disabled={!ready || e.running} onClick={() => void e.start()}>
            Evaluate
          </button>
          {e.running && (
            <button className="ghost" onClick={e.cancel}>
              Cancel evaluation
            </button>
          )}
        </div>
        {e.running && (
          <ProgressBar
            label="Evaluation progress"
            value={e.progress?.done ?? 0}
            max={e.progress?.total ?? 0}
            detail={e.progress ? `${e.progress.done} / ${e.progress.total} · ${e.progress.pass}` : 'starting'}
          />
        )}
        {e.error && (
          <div className="banner bad" role="alert">
            {e.error}
          </div>
        )}
        {e.warnings.length > 0 && (
          <div className="banner warn" role="status" aria-label="Contamination warning">
            {e.warnings.length} held-out prompt{e.warnings.length === 1 ? '' : 's'} resemble training rows
            (ROUGE-L ≥ 0.7), e.g. {e.warnings[0].where} ~ {e.warnings[0].train}: scores there measure memory,
            not generalisation.
          </div>
        )}
      </Card>
      {(e.run?.evaluations?.length ?? 0) > 0 && (
        <Card title="Stored reports">
          <ul className="issues" aria-label="Stored reports">
            {e.run!.evaluations!.map((r, i) => (
              <li key={r.id} className="inline">
                <span>
                  {new Date(r.createdAt).toLocaleString()} · {r.source} · exact {pct(r.report.summary.exact)}
                  {r.report.summary.base ? ` vs base ${pct(r.report.summary.base.exact)}` : ''} ·{' '}
                  {Object.keys(r.votes).length} votes
                </span>
                <button className="small" onClick={() => e.open(r)}>
                  Open report {i + 1}
                </button>
              </li>
            ))}
          </ul>
        </Card>
      )}
      {report && (
        <Card
          title="Evaluation summary"
          actions={
            <>
              <button onClick={() => e.exportJson(report)}>Export JSON</button>
              <button onClick={() => e.exportCsv(report)}>Export CSV</button>
            </>
          }
        >
          <div className="stats" role="group" aria-label="Summary">
            <Stat label="Rows" value={report.summary.n} />
            <Stat label={report.summary.base ? 'Exact (tuned)' : 'Exact'} value={pct(report.summary.exact)} />
            <Stat
              label={report.summary.base ? 'ROUGE-L (tuned)' : 'ROUGE-L'}
              value={num(report.summary.rougeL)}
            />
            <Stat label={report.summary.base ? 'Loss (tuned)' : 'Loss'} value={num(report.summary.loss)} />
            {report.summary.base && (
              <>
                <Stat label="Exact (base)" value={pct(report.summary.base.exact)} />
                <Stat label="ROUGE-L (base)" value={num(report.summary.base.rougeL)} />
                <Stat label="Loss (base)" value={num(report.summary.base.loss)} />
              </>
            )}
            {report.summary.base && w && (
              <Stat
                label="Win rate (votes)"
                title="Rows where you preferred the tuned answer, over rows you decided (ties apart); 95 % Wilson interval"
                value={
                  w.wins + w.losses
                    ? `${pct(w.rate)} (${pct(w.low)}–${pct(w.high)}) · ${w.wins}–${w.losses}${w.ties ? `, ${w.ties} tie${w.ties === 1 ? '' : 's'}` : ''}`
                    : 'no votes yet'
                }
              />
            )}
          </div>
          <div className="muted small">
            {e.savedIn
              ? `Stored with run “${e.savedIn}”.`
              : 'Not stored: this adapter has no run here (export it instead).'}
          </div>
          <EvalTable report={report} votes={e.evaluation!.votes} onVote={e.vote} />
        </Card>
      )}
    </div>
  );
}
