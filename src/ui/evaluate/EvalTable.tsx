// One row per evaluated prompt: the reference, the tuned and base answers side by side with exact match,
// ROUGE-L and loss, and the user's pairwise vote. Model output and dataset text are rendered as text.
import type { EvalMetrics, EvalReport } from '../../engine/eval/evaluate';
import type { Vote } from '../../storage/evaluations';
import { TableHead } from '../common';

const num = (x: number | null, d = 3) => (x === null || !Number.isFinite(x) ? '–' : x.toFixed(d));

function Answer(props: { m: EvalMetrics; label: string }) {
  return (
    <div className={`eval-answer ${props.m.exact ? 'exact' : ''}`} aria-label={props.label}>
      <div className="pre">{props.m.prediction || <span className="muted">(empty)</span>}</div>
      <div className="muted small">
        {props.m.exact ? 'exact' : 'not exact'} · ROUGE-L {num(props.m.rougeL)} · loss {num(props.m.loss)}
      </div>
    </div>
  );
}

/** The user turn of a rendered prompt, for display (the report keeps the whole rendered prompt). */
export const promptText = (p: string) => {
  const m = /user\n([\s\S]*?)(<\|im_end\|>|<\|eot_id\|>|<\/s>|$)/.exec(p);
  return (m ? m[1] : p).trim();
};

export function EvalTable(props: {
  report: EvalReport;
  votes: Record<number, Vote>;
  onVote: (row: number, v: Vote) => void;
}) {
  const compare = props.report.rows.some((r) => r.base);
  const choices: [Vote, string][] = [
    ['tuned', 'Tuned better'],
    ['tie', 'Tie'],
    ['base', 'Base better'],
  ];
  return (
    <div className="table-wrap">
      <table aria-label="Evaluation rows" className="eval-table">
        <TableHead
          columns={[
            '#',
            'Prompt',
            'Reference',
            compare ? 'Tuned' : 'Prediction',
            ...(compare ? ['Base', 'Vote'] : []),
          ]}
        />
        <tbody>
          {props.report.rows.map((r, i) => (
            <tr key={i}>
              <td className="num">{i + 1}</td>
              <td>
                <div className="pre" title={r.prompt}>
                  {promptText(r.prompt)}
                </div>
              </td>
              <td>
                <div className="pre">{r.reference}</div>
              </td>
              <td>
                <Answer m={r} label={`${compare ? 'Tuned' : 'Prediction'} answer ${i + 1}`} />
              </td>
              {r.base && (
                <td>
                  <Answer m={r.base} label={`Base answer ${i + 1}`} />
                </td>
              )}
              {compare && (
                <td>
                  <div className="vote" role="group" aria-label={`Vote on row ${i + 1}`}>
                    {choices.map(([v, label]) => (
                      <button
                        key={v}
                        className={`small ${props.votes[i] === v ? 'primary' : 'ghost'}`}
                        aria-pressed={props.votes[i] === v}
                        onClick={() => props.onVote(i, v)}
                      >
                        {label}
                      </button>
                    ))}
                  </div>
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
