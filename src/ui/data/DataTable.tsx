// The editable rows of a dataset: instruction / input / output / system for alpaca-style rows, the turns of
// multi-turn rows (messages, conversations) in ChatEditor; other formats (prompt/completion, text, token
// ids) are shown read-only with their format. Each row is checked as the engine will read it
// (normalizeRow), and its problem is shown beside it.
import { useMemo, useState } from 'react';
import { normalizeRow } from '../../data/rows';
import type { DataRow, DatasetRecord } from '../../storage/db';
import type { RowCount } from '../../../workers/api';
import { useStudio } from '../../state/store';
import { updateDataset, schedulePreview } from '../actions/data';
import { TableHead } from '../common';
import { ChatEditor, chatList } from './ChatEditor';

const FIELDS = ['instruction', 'input', 'output', 'system'] as const;
const PAGE = 50;

const isAlpaca = (r: DataRow) =>
  Object.keys(r).every((k) => (FIELDS as readonly string[]).includes(k)) &&
  FIELDS.every((k) => r[k] === undefined || typeof r[k] === 'string');

function summary(r: DataRow): { format: string; text: string } {
  const n = normalizeRow(r);
  if (!n.ok) return { format: 'invalid', text: JSON.stringify(r).slice(0, 300) };
  const row = n.row;
  if (row.kind === 'text') return { format: 'text', text: row.text };
  if (row.kind === 'tokens')
    return {
      format: 'token ids',
      text: `${row.input_ids.length} tokens: ${row.input_ids.slice(0, 24).join(' ')}…`,
    };
  return { format: row.format, text: row.messages.map((m) => `${m.role}: ${m.content}`).join('\n') };
}

function Row(props: { ds: DatasetRecord; index: number; count?: RowCount; maxLen: number }) {
  const { ds, index } = props;
  const row = ds.rows[index];
  const setPreviewRow = useStudio((s) => s.setPreviewRow);
  const previewRow = useStudio((s) => s.previewRow);
  const check = useMemo(() => normalizeRow(row), [row]);
  const n = index + 1;
  const edit = (field: string, value: string) => {
    const rows = ds.rows.slice();
    const next: DataRow = { ...row, [field]: value };
    if (value === '' && (field === 'input' || field === 'system')) delete next[field];
    rows[index] = next;
    updateDataset(ds.id, { rows });
  };
  const chat = chatList(row) !== null;
  const replace = (next: DataRow, delay?: number) => {
    const rows = ds.rows.slice();
    rows[index] = next;
    updateDataset(ds.id, { rows }, delay);
  };
  const remove = () => updateDataset(ds.id, { rows: ds.rows.filter((_, i) => i !== index) }, 0);
  const select = () => {
    setPreviewRow(index);
    schedulePreview(0);
  };
  const c = props.count;
  return (
    <tr className={`${previewRow === index ? 'selected' : ''}${check.ok ? '' : ' bad'}`} onFocus={select}>
      <th scope="row" className="num">
        <button className="link" aria-label={`Preview row ${n}`} onClick={select}>
          {n}
        </button>
      </th>
      {isAlpaca(row) ? (
        FIELDS.map((f) => (
          <td key={f}>
            <textarea
              aria-label={`Row ${n} ${f}`}
              value={(row[f] as string | undefined) ?? ''}
              rows={2}
              placeholder={f === 'input' || f === 'system' ? 'optional' : ''}
              onChange={(e) => edit(f, e.target.value)}
            />
          </td>
        ))
      ) : chat ? (
        <td colSpan={4}>
          <ChatEditor row={row} n={n} error={check.ok ? undefined : check.message} onChange={replace} />
        </td>
      ) : (
        <td colSpan={4}>
          <div className="readonly-row">
            <span className="badge subtle">{summary(row).format}</span>
            <span className="pre">{summary(row).text}</span>
          </div>
        </td>
      )}
      <td
        className="num"
        title={c?.truncated ? `longer than max length ${props.maxLen}: truncated` : undefined}
      >
        {c ? <span className={c.truncated ? 'over' : ''}>{c.tokens || '–'}</span> : '–'}
        {!check.ok && !chat && (
          <div className="row-error" role="note">
            {check.message}
          </div>
        )}
        {check.ok && c?.error && (
          <div className="row-error" role="note">
            {c.error}
          </div>
        )}
      </td>
      <td>
        <button className="ghost small" aria-label={`Delete row ${n}`} onClick={remove}>
          Delete
        </button>
      </td>
    </tr>
  );
}

export function DataTable(props: { ds: DatasetRecord }) {
  const { ds } = props;
  const counts = useStudio((s) => s.preview?.counts);
  const maxLen = useStudio((s) => s.trainForm.maxLen);
  const [page, setPage] = useState(0);
  const pages = Math.max(1, Math.ceil(ds.rows.length / PAGE));
  const p = Math.min(page, pages - 1);
  const add = () => {
    updateDataset(ds.id, { rows: [...ds.rows, { instruction: '', output: '' }] }, 0);
    setPage(Math.floor(ds.rows.length / PAGE));
  };
  const addChat = () => {
    const messages = [
      { role: 'user', content: '' },
      { role: 'assistant', content: '' },
    ];
    updateDataset(ds.id, { rows: [...ds.rows, { messages }] }, 0);
    setPage(Math.floor(ds.rows.length / PAGE));
  };
  const start = p * PAGE;
  const idx = Array.from({ length: Math.min(PAGE, ds.rows.length - start) }, (_, i) => start + i);
  return (
    <div className="table-wrap">
      <table className="data-table" aria-label={`Rows of ${ds.name}`}>
        <TableHead columns={['#', 'Instruction', 'Input', 'Output', 'System', '#Tokens']} actions />
        <tbody>
          {idx.map((i) => (
            <Row key={i} ds={ds} index={i} count={counts?.[i]} maxLen={maxLen} />
          ))}
        </tbody>
      </table>
      {ds.rows.length === 0 && (
        <div className="empty">No rows yet. Add one, or import a JSON, JSONL or CSV file.</div>
      )}
      <div className="table-foot">
        <button onClick={add}>Add row</button>
        <button onClick={addChat}>Add conversation</button>
        {pages > 1 && (
          <div className="pager" aria-label="Pages">
            <button
              className="small"
              disabled={p === 0}
              onClick={() => setPage(p - 1)}
              aria-label="Previous page"
            >
              ‹
            </button>
            <span>
              rows {start + 1}–{start + idx.length} of {ds.rows.length}
            </span>
            <button
              className="small"
              disabled={p >= pages - 1}
              onClick={() => setPage(p + 1)}
              aria-label="Next page"
            >
              ›
            </button>
          </div>
        )}
      </div>
    </div>
  );
}
