// Dataset files as plain records (any columns, no row-format validation) for the data tools that must
// write rows back unchanged (dedupe, score) or read arbitrary labelled columns (templates). Containers as
// formats.ts detects them: JSON array, JSON Lines, CSV/TSV with a header row.
import Papa from 'papaparse';
import { UserError } from '../errors';
import { detectContainer, type Container } from './formats';

export type DataRecord = Record<string, unknown>;

export interface RecordFile {
  container: Container;
  records: DataRecord[];
  /** Where each record is, for messages: "data.jsonl:3", "data.json item 7". */
  where: string[];
  /** CSV/TSV header, or the keys of the records in first-seen order. */
  columns: string[];
}

const isRecord = (v: unknown): v is DataRecord => typeof v === 'object' && v !== null && !Array.isArray(v);

export function readRecords(text: string, fileName: string): RecordFile {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (text.trim() === '') throw new UserError('the file is empty', fileName);
  const container = detectContainer(fileName, text);
  const records: DataRecord[] = [];
  const where: string[] = [];
  const push = (v: unknown, at: string) => {
    if (!isRecord(v)) throw new UserError('expected a JSON object per row', at);
    records.push(v);
    where.push(at);
  };
  if (container === 'csv' || container === 'tsv') {
    const res = Papa.parse<DataRecord>(text, {
      header: true,
      skipEmptyLines: 'greedy',
      delimiter: container === 'tsv' ? '\t' : ',',
    });
    const bad = res.errors[0];
    if (bad) throw new UserError(`CSV: ${bad.message}`, `${fileName}:${(bad.row ?? 0) + 2}`);
    res.data.forEach((r, i) => push(r, `${fileName}:${i + 2}`));
    const columns = (res.meta.fields ?? []).filter((c) => c !== '');
    return { container, records, where, columns };
  }
  const jsonl = () =>
    text.split('\n').forEach((line, i) => {
      if (line.trim() === '') return;
      try {
        push(JSON.parse(line), `${fileName}:${i + 1}`);
      } catch (e) {
        if (e instanceof UserError) throw e;
        throw new UserError(`invalid JSON (${(e as Error).message})`, `${fileName}:${i + 1}`);
      }
    });
  if (container === 'jsonl') jsonl();
  else {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (e) {
      if (text.trim().startsWith('{') && text.trim().split('\n').length > 1) jsonl();
      else throw new UserError(`invalid JSON (${(e as Error).message})`, fileName);
    }
    if (value !== undefined) {
      const arrays = isRecord(value) ? Object.values(value).filter(Array.isArray) : [];
      const items = Array.isArray(value) ? value : arrays.length === 1 ? arrays[0] : [value];
      (items as unknown[]).forEach((v, i) => push(v, `${fileName} item ${i + 1}`));
    }
  }
  if (records.length === 0) throw new UserError('no rows found', fileName);
  const columns = [...new Set(records.flatMap((r) => Object.keys(r)))];
  return { container, records, where, columns };
}

/** Records written in the container the output name asks for (JSON Lines unless .json/.csv/.tsv). */
export function writeRecords(records: readonly DataRecord[], fileName: string): string {
  const name = fileName.toLowerCase();
  if (name.endsWith('.json')) return JSON.stringify(records, null, 2) + '\n';
  if (name.endsWith('.csv') || name.endsWith('.tsv')) {
    const columns = [...new Set(records.flatMap((r) => Object.keys(r)))];
    const cells = records.map((r) =>
      columns.map((c) => {
        const v = r[c];
        return v === undefined || v === null ? '' : typeof v === 'string' ? v : JSON.stringify(v);
      }),
    );
    return (
      Papa.unparse(
        { fields: columns, data: cells },
        { delimiter: name.endsWith('.tsv') ? '\t' : ',', newline: '\n' },
      ) + '\n'
    );
  }
  return records.map((r) => JSON.stringify(r) + '\n').join('');
}

/** The whole row as a canonical string (keys sorted at every level): equal strings = exact duplicates. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (isRecord(v))
    return `{${Object.keys(v)
      .sort()
      .filter((k) => v[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(v[k])}`)
      .join(',')}}`;
  return JSON.stringify(v) ?? 'null';
}
