// Importing a dataset file in the worker: formats.ts detects the container and each row's format and
// reports bad rows with their line; the valid rows are kept as the user wrote them (JSON, JSONL) so the
// Data tab can edit them, or rebuilt from the parsed row where the file form cannot be recovered (CSV).
import { detectContainer, parseDataset, type DataIssue } from '../src/data/formats';
import type { Row, RowFormat } from '../src/data/rows';
import type { DataRow } from '../src/storage';

export interface ImportResult {
  rows: DataRow[];
  errors: DataIssue[];
  formats: Partial<Record<RowFormat, number>>;
  container: string;
}

/** The row as written in the file where it can be recovered exactly (JSON, JSONL), else rebuilt from Row. */
function rawRows(text: string, fileName: string, rows: Row[]): DataRow[] {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const lines = body.split('\n');
  let items: unknown[] | undefined;
  const itemsOf = () => {
    if (items) return items;
    const v: unknown = JSON.parse(body);
    if (Array.isArray(v)) items = v;
    else items = (Object.values(v as object).find((x) => Array.isArray(x)) as unknown[] | undefined) ?? [v];
    return items;
  };
  const csv = /^(csv|tsv)$/.test(detectContainer(fileName, body));
  return rows.map((r) => {
    try {
      if (!csv) {
        const item = /item (\d+)$/.exec(r.where);
        if (item) return itemsOf()[Number(item[1]) - 1] as DataRow; // items are numbered from 1
        if (/:\d+$/.test(r.where)) return JSON.parse(lines[r.line - 1]) as DataRow;
      }
    } catch {
      // fall through to the rebuilt row
    }
    return rebuild(r);
  });
}

function rebuild(r: Row): DataRow {
  if (r.kind === 'text') return { text: r.text };
  if (r.kind === 'tokens') return { input_ids: r.input_ids, labels: r.labels };
  const sys = r.messages.find((m) => m.role === 'system')?.content;
  const turns = r.messages.filter((m) => m.role !== 'system');
  if (r.flat && turns.length === 2) {
    if (r.format === 'prompt_completion') return { prompt: turns[0].content, completion: turns[1].content };
    return {
      instruction: turns[0].content,
      input: '',
      output: turns[1].content,
      ...(sys ? { system: sys } : {}),
    };
  }
  return { messages: r.messages };
}

export function importDataset(text: string, fileName: string, vocabSize?: number): ImportResult {
  const parsed = parseDataset(text, fileName, { vocabSize });
  const formats: ImportResult['formats'] = {};
  for (const r of parsed.rows) formats[r.format] = (formats[r.format] ?? 0) + 1;
  return {
    rows: rawRows(text, fileName, parsed.rows),
    errors: parsed.errors,
    formats,
    container: detectContainer(fileName, text),
  };
}
