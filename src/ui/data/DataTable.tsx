// The editable rows of a dataset: instruction / input / output / system for alpaca-style rows, the turns of
// multi-turn rows (messages, conversations) in ChatEditor; other formats (prompt/completion, text, token
// ids) are shown read-only with their format. Each row is checked as the engine will read it
// (normalizeRow), and its problem is shown beside it. Virtualised: only the rows in view (and a few around
// them) are in the DOM, so 20,000 rows scroll smoothly; aria-rowcount / aria-rowindex keep the table's size
// and each row's place for assistive technology.
import { useLayoutEffect, useMemo, useRef, useState } from 'react';
import { normalizeRow } from '../../data/rows';
import type { DataRow, DatasetRecord } from '../../storage/db';
import type { RowCount } from '../../../workers/api';
import { useStudio } from '../../state/store';
import { updateDataset, schedulePreview } from '../actions/data';
import { TableHead } from '../common';
import { ChatEditor, chatList } from './ChatEditor';

const FIELDS = ['instruction', 'input', 'output', 'system'] as const;
/** Rows drawn beyond the visible ones on each side, and the first guess of a row's height (px). */
const OVERSCAN = 10;
const ROW_GUESS = 62;

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
    <tr
      className={`${previewRow === index ? 'selected' : ''}${check.ok ? '' : ' bad'}`}
      aria-rowindex={index + 2}
      data-index={index}
      onFocus={select}
    >
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

/** The window of rows to draw for a scroll position: rows are assumed as tall as the drawn ones on average. */
function useWindow(count: number) {
  const scroller = useRef<HTMLDivElement>(null);
  const [top, setTop] = useState(0);
  const [view, setView] = useState(600);
  const rowHeight = useRef(ROW_GUESS);
  const atEnd = useRef(false);
  const body = useRef<HTMLTableSectionElement>(null);
  useLayoutEffect(() => {
    // the average height of the rows drawn now refines the guess (rows hold textareas or conversations)
    const rows = body.current?.querySelectorAll<HTMLElement>('tr[data-index]');
    if (rows?.length) {
      let h = 0;
      rows.forEach((r) => (h += r.getBoundingClientRect().height));
      if (h > 0) rowHeight.current = Math.max(24, h / rows.length);
    }
    const el = scroller.current;
    if (!el) return;
    setView(el.clientHeight || 600);
    // at the end, stay at the end while the estimate of the rows above changes
    if (atEnd.current) el.scrollTop = el.scrollHeight;
  });
  const h = rowHeight.current;
  const start = Math.max(0, Math.min(count - 1, Math.floor(top / h) - OVERSCAN));
  const end = Math.min(count, Math.ceil((top + view) / h) + OVERSCAN);
  return {
    scroller,
    body,
    start: Math.max(0, start),
    end,
    before: Math.max(0, start) * h,
    after: Math.max(0, count - end) * h,
    onScroll: () => {
      const el = scroller.current;
      if (!el) return;
      atEnd.current = el.scrollTop > 0 && el.scrollTop + el.clientHeight >= el.scrollHeight - 2;
      setTop(el.scrollTop);
    },
    toEnd: () =>
      requestAnimationFrame(() => {
        const el = scroller.current;
        if (el) el.scrollTop = el.scrollHeight;
      }),
  };
}

export function DataTable(props: { ds: DatasetRecord }) {
  const { ds } = props;
  const counts = useStudio((s) => s.preview?.counts);
  const maxLen = useStudio((s) => s.trainForm.maxLen);
  const n = ds.rows.length;
  const w = useWindow(n);
  const add = () => {
    updateDataset(ds.id, { rows: [...ds.rows, { instruction: '', output: '' }] }, 0);
    w.toEnd();
  };
  const addChat = () => {
    const messages = [
      { role: 'user', content: '' },
      { role: 'assistant', content: '' },
    ];
    updateDataset(ds.id, { rows: [...ds.rows, { messages }] }, 0);
    w.toEnd();
  };
  const idx = Array.from({ length: Math.max(0, w.end - w.start) }, (_, i) => w.start + i);
  return (
    <div className="table-wrap">
      <div
        className="table-scroll"
        ref={w.scroller}
        onScroll={w.onScroll}
        tabIndex={-1}
        data-testid="rows-scroller"
      >
        <table className="data-table" aria-label={`Rows of ${ds.name}`} aria-rowcount={n + 1}>
          <TableHead columns={['#', 'Instruction', 'Input', 'Output', 'System', '#Tokens']} actions />
          <tbody ref={w.body}>
            {w.before > 0 && <tr aria-hidden="true" className="spacer" style={{ height: w.before }} />}
            {idx.map((i) => (
              <Row key={i} ds={ds} index={i} count={counts?.[i]} maxLen={maxLen} />
            ))}
            {w.after > 0 && <tr aria-hidden="true" className="spacer" style={{ height: w.after }} />}
          </tbody>
        </table>
      </div>
      {n === 0 && <div className="empty">No rows yet. Add one, or import a JSON, JSONL or CSV file.</div>}
      <div className="table-foot">
        <button onClick={add}>Add row</button>
        <button onClick={addChat}>Add conversation</button>
        {n > idx.length && (
          <span className="muted small" aria-live="polite">
            rows {w.start + 1}–{w.start + idx.length} of {n} drawn; scroll for more
          </span>
        )}
      </div>
    </div>
  );
}
