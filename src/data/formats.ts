// Dataset files → rows (DESIGN §3 "Data rows"). The container is chosen by file name (JSON, JSONL, CSV/TSV
// via papaparse), the row format per row (rows.ts). Every bad row becomes an issue naming its place:
// "data.jsonl:3" (line), "data.json item 7" (the 7th item, counted from 1), "data.csv:4" (line).

import Papa from 'papaparse';
import { UserError } from '../errors';
import { normalizeRow, type Row, type RowBody, type RowFormat, type RowOptions } from './rows';

export interface DataIssue {
  where: string;
  message: string;
}

export interface ParsedDataset {
  rows: Row[];
  errors: DataIssue[];
}

export type Container = 'json' | 'jsonl' | 'csv' | 'tsv';

/** By extension; an unknown extension is sniffed (a leading "[" means JSON, otherwise JSONL). */
export function detectContainer(fileName: string, text: string): Container {
  const name = fileName.toLowerCase();
  if (name.endsWith('.jsonl') || name.endsWith('.ndjson')) return 'jsonl';
  if (name.endsWith('.json')) return 'json';
  if (name.endsWith('.csv')) return 'csv';
  if (name.endsWith('.tsv')) return 'tsv';
  return text.trimStart().startsWith('[') ? 'json' : 'jsonl';
}

export function parseDataset(
  text: string,
  fileName: string,
  opts: Omit<RowOptions, 'csv'> = {},
): ParsedDataset {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const out: ParsedDataset = { rows: [], errors: [] };
  if (text.trim() === '') {
    out.errors.push({ where: fileName, message: 'the file is empty' });
    return out;
  }
  const container = detectContainer(fileName, text);
  if (container === 'jsonl') parseJsonl(text, fileName, opts, out);
  else if (container === 'json') parseJson(text, fileName, opts, out);
  else parseCsv(text, fileName, container === 'tsv' ? '\t' : ',', opts, out);
  if (out.rows.length === 0 && out.errors.length === 0)
    out.errors.push({ where: fileName, message: 'no rows found' });
  return out;
}

/** parseDataset, throwing a UserError that lists the first few problems when there is any. */
export function parseDatasetStrict(
  text: string,
  fileName: string,
  opts: Omit<RowOptions, 'csv'> = {},
): Row[] {
  const { rows, errors } = parseDataset(text, fileName, opts);
  if (errors.length > 0) throw issuesError(errors);
  return rows;
}

/** One UserError for a list of issues: the first names the place, a few more follow on their own lines. */
export function issuesError(issues: readonly DataIssue[], show = 5): UserError {
  const [first, ...rest] = issues;
  const lines = [first.message, ...rest.slice(0, show - 1).map((i) => `${i.where}: ${i.message}`)];
  if (issues.length > show) lines.push(`(and ${issues.length - show} more problems)`);
  return new UserError(lines.join('\n'), first.where);
}

function add(out: ParsedDataset, value: unknown, line: number, where: string, opts: RowOptions): void {
  const r = normalizeRow(value, opts);
  if (r.ok) out.rows.push({ ...r.row, line, where } as Row);
  else out.errors.push({ where, message: r.message });
}

function parseJsonl(text: string, fileName: string, opts: RowOptions, out: ParsedDataset): void {
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '') continue;
    const where = `${fileName}:${i + 1}`;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (e) {
      out.errors.push({ where, message: `invalid JSON (${(e as Error).message})` });
      continue;
    }
    add(out, value, i + 1, where, opts);
  }
}

function parseJson(text: string, fileName: string, opts: RowOptions, out: ParsedDataset): void {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    // Many ".json" datasets are JSON Lines (the `datasets` library writes them so): accept them.
    if (looksLikeJsonl(text)) return parseJsonl(text, fileName, opts, out);
    const at = jsonErrorOffset(text, (e as Error).message);
    const where = at !== undefined ? `${fileName}:${lineAt(text, at)}` : fileName;
    out.errors.push({ where, message: `invalid JSON (${(e as Error).message})` });
    return;
  }
  let items: unknown[];
  if (Array.isArray(value)) items = value;
  else if (typeof value === 'object' && value !== null) {
    const single = normalizeRow(value, opts);
    const arrays = Object.entries(value).filter(([, v]) => Array.isArray(v));
    if (single.ok || arrays.length !== 1) return add(out, value, 1, fileName, opts);
    items = arrays[0][1] as unknown[];
  } else {
    out.errors.push({
      where: fileName,
      message: 'expected a JSON array of rows or an object with one array field',
    });
    return;
  }
  items.forEach((item, i) => add(out, item, i + 1, `${fileName} item ${i + 1}`, opts));
}

function looksLikeJsonl(text: string): boolean {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  if (lines.length < 2) return false;
  try {
    const v: unknown = JSON.parse(lines[0]);
    return typeof v === 'object' && v !== null && !Array.isArray(v);
  } catch {
    return false;
  }
}

/**
 * Offset of a JSON syntax error. V8 names a position for some errors only; otherwise bisect for the shortest
 * prefix that fails for a reason other than ending early (~log2(n) parses, on the error path only).
 */
function jsonErrorOffset(text: string, message: string): number | undefined {
  const pos = /at position (\d+)/.exec(message);
  if (pos) return Number(pos[1]);
  const fails = (n: number) => {
    try {
      JSON.parse(text.slice(0, n));
      return false;
    } catch (e) {
      const m = (e as Error).message;
      const p = /at position (\d+)/.exec(m);
      return !m.includes('end of JSON input') && (!p || Number(p[1]) < n);
    }
  };
  if (!fails(text.length)) return undefined;
  let lo = 0;
  let hi = text.length;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (fails(mid)) hi = mid;
    else lo = mid;
  }
  return hi - 1;
}

function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/** CSV/TSV with a header row. Parsed without papaparse's header mode so each record's line can be found. */
function parseCsv(
  text: string,
  fileName: string,
  delimiter: string,
  opts: RowOptions,
  out: ParsedDataset,
): void {
  let header: string[] | undefined;
  let prevEnd = 0;
  let line = 1;
  Papa.parse<string[]>(text, {
    delimiter,
    skipEmptyLines: 'greedy',
    step: (res) => {
      // Records start after the previous one's end and any blank lines; count newlines up to there.
      let start = prevEnd;
      while (start < text.length && /\s/.test(text[start])) start++;
      for (let i = prevEnd; i < start; i++) if (text.charCodeAt(i) === 10) line++;
      prevEnd = res.meta.cursor;
      const recLine = line;
      for (let i = start; i < prevEnd; i++) if (text.charCodeAt(i) === 10) line++;
      const where = `${fileName}:${recLine}`;
      const cells = res.data;
      if (!header) {
        header = cells.map((h) => h.trim());
        return;
      }
      const quoteError = res.errors.find((e) => e.type === 'Quotes');
      if (quoteError) {
        out.errors.push({ where, message: `CSV: ${quoteError.message}` });
        return;
      }
      if (cells.length !== header.length) {
        const msg = `CSV: expected ${header.length} fields (as in the header) but found ${cells.length}`;
        out.errors.push({ where, message: msg });
        return;
      }
      const record: Record<string, string> = {};
      header.forEach((h, i) => {
        if (h !== '') record[h] = cells[i];
      });
      add(out, record, recLine, where, { ...opts, csv: true });
    },
  });
}

/** Rows → JSON Lines: chat rows in the messages format, text and token rows as themselves. */
export function toJsonl(rows: readonly (RowBody & { format?: RowFormat })[]): string {
  return rows
    .map((r) => {
      if (r.kind === 'chat')
        return JSON.stringify({ messages: r.messages.map((m) => ({ role: m.role, content: m.content })) });
      if (r.kind === 'text') return JSON.stringify({ text: r.text });
      const same = r.labels.length === r.input_ids.length && r.labels.every((l, i) => l === r.input_ids[i]);
      return JSON.stringify(same ? { input_ids: r.input_ids } : { input_ids: r.input_ids, labels: r.labels });
    })
    .map((l) => l + '\n')
    .join('');
}
