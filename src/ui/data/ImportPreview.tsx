// Review of a parsed file before it is stored: the container, row counts per format, the first rows mapped
// to the columns they feed (system / instruction or user / input / output or assistant; conversations,
// text and token ids as one cell) and the rows that will be skipped, with their line. Nothing is written
// until "Import N rows"; Cancel drops the parse.
import { normalizeRow } from '../../data/rows';
import type { DataRow } from '../../storage/db';
import { useStudio } from '../../state/store';
import { cancelImport, commitImport } from '../actions/data';
import { TableHead } from '../common';

const SHOW = 5;
const CONTAINERS: Record<string, string> = { json: 'JSON', jsonl: 'JSONL', csv: 'CSV', tsv: 'TSV' };

const clip = (s: string, n = 140) => (s.length > n ? `${s.slice(0, n)}…` : s);
const str = (v: unknown) => (typeof v === 'string' ? v : '');

type Mapped =
  | { kind: 'flat'; system: string; user: string; input: string; assistant: string }
  | { kind: 'whole'; system: string; label: string; text: string };

/** Where a stored row's text goes, as the engine reads it. */
function mapRow(raw: DataRow): { format: string; m: Mapped } {
  const n = normalizeRow(raw);
  if (!n.ok) return { format: 'invalid', m: { kind: 'whole', system: '', label: '', text: n.message } };
  const row = n.row;
  if (row.kind === 'text')
    return { format: 'text', m: { kind: 'whole', system: '', label: 'text', text: row.text } };
  if (row.kind === 'tokens')
    return {
      format: 'tokens',
      m: { kind: 'whole', system: '', label: 'token ids', text: `${row.input_ids.length} token ids` },
    };
  if (row.format === 'alpaca')
    return {
      format: row.format,
      m: {
        kind: 'flat',
        system: str(raw.system),
        user: str(raw.instruction),
        input: str(raw.input),
        assistant: str(raw.output),
      },
    };
  const system = row.messages.find((x) => x.role === 'system')?.content ?? '';
  const turns = row.messages.filter((x) => x.role !== 'system');
  if (turns.length === 2)
    return {
      format: row.format,
      m: { kind: 'flat', system, user: turns[0].content, input: '', assistant: turns[1].content },
    };
  return {
    format: row.format,
    m: { kind: 'whole', system, label: `${turns.length} turns`, text: `user: ${turns[0]?.content ?? ''}` },
  };
}

export function ImportPreview() {
  const p = useStudio((s) => s.pendingImport);
  const target = useStudio((s) => s.datasets.find((d) => d.id === s.activeDatasetId));
  if (!p) return null;
  const { rows, errors, formats, container } = p.result;
  const counts = Object.entries(formats)
    .map(([k, v]) => `${v} ${k}`)
    .join(', ');
  const dest =
    p.into === 'active' && target
      ? `appended to "${target.name}"`
      : `as a new dataset "${p.fileName.replace(/\.(jsonl|ndjson|json|csv|tsv)$/i, '')}"`;
  const n = rows.length;
  return (
    <div
      className={`import-report import-preview ${errors.length ? 'has-errors' : ''}`}
      role="region"
      aria-label="Import preview"
    >
      <div className="inline">
        <strong>{p.fileName}</strong>
        <span className="badge subtle" aria-label="Container">
          {CONTAINERS[container] ?? container}
        </span>
        <span>
          {n} row{n === 1 ? '' : 's'} to import{counts ? ` (${counts})` : ''}
          {errors.length ? `, ${errors.length} with errors will be skipped` : ''}, {dest}
        </span>
      </div>
      {n > 0 && (
        <div className="table-wrap">
          <table className="preview-table" aria-label="Mapped rows">
            <TableHead
              columns={['#', 'Format', 'System', 'Instruction / user', 'Input', 'Output / assistant']}
            />
            <tbody>
              {rows.slice(0, SHOW).map((r, i) => {
                const { format, m } = mapRow(r);
                return (
                  <tr key={i}>
                    <th scope="row" className="num">
                      {i + 1}
                    </th>
                    <td>
                      <span className="badge subtle">{format}</span>
                    </td>
                    <td className="pre">{clip(m.system)}</td>
                    {m.kind === 'flat' ? (
                      <>
                        <td className="pre">{clip(m.user)}</td>
                        <td className="pre">{clip(m.input)}</td>
                        <td className="pre">{clip(m.assistant)}</td>
                      </>
                    ) : (
                      <td colSpan={3} className="pre">
                        <strong>{m.label}</strong> {clip(m.text)}
                      </td>
                    )}
                  </tr>
                );
              })}
            </tbody>
          </table>
          {n > SHOW && <div className="muted small">… and {n - SHOW} more rows</div>}
        </div>
      )}
      {errors.length > 0 && (
        <ul className="issues" aria-label="Import errors">
          {errors.slice(0, 200).map((e, i) => (
            <li key={i}>
              <span className="mono where">{e.where}</span> {e.message}
            </li>
          ))}
          {errors.length > 200 && <li>… and {errors.length - 200} more</li>}
        </ul>
      )}
      <div className="inline preview-actions">
        <button className="primary" disabled={n === 0} onClick={() => void commitImport()}>
          Import {n} row{n === 1 ? '' : 's'}
        </button>
        <button className="ghost" onClick={cancelImport}>
          Cancel
        </button>
      </div>
    </div>
  );
}
