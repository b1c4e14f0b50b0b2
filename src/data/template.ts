// Instruction rows from labelled data (the survey's "data integration", as FLAN does it): templates with
// {column} slots fill an alpaca row per record; with several phrasings of the instruction, each row gets
// one chosen by a seeded generator, so the same seed gives the same dataset. `{{` and `}}` are literal braces.
import { UserError } from '../errors';
import type { DataRecord } from './records';

export interface TemplateSpec {
  /** One or more phrasings of the instruction; one is picked per row. */
  instructions: string[];
  /** Optional input template (alpaca `input`). */
  input?: string;
  /** The answer template, usually one column: "{label}". */
  output: string;
  seed?: number;
}

export interface TemplateResult {
  rows: { instruction: string; input?: string; output: string }[];
  /** Index of the phrasing each row used. */
  phrasing: number[];
  /** Records skipped because their output came out empty (with where they are). */
  skipped: { index: number; reason: string }[];
}

type Part = { text: string } | { column: string };

/** A template's literal text and {column} slots; a brace that opens no slot is an error. */
export function parseTemplate(template: string, what: string): Part[] {
  const parts: Part[] = [];
  let text = '';
  for (let i = 0; i < template.length; i++) {
    const c = template[i];
    if ((c === '{' || c === '}') && template[i + 1] === c) {
      text += c;
      i++;
    } else if (c === '{') {
      const end = template.indexOf('}', i);
      const name = end < 0 ? '' : template.slice(i + 1, end).trim();
      if (!name) throw new UserError(`${what}: "{" at character ${i + 1} opens no {column} slot`);
      if (text) parts.push({ text });
      text = '';
      parts.push({ column: name });
      i = end;
    } else if (c === '}') {
      throw new UserError(
        `${what}: "}" at character ${i + 1} closes no {column} slot (write }} for a brace)`,
      );
    } else text += c;
  }
  if (text) parts.push({ text });
  return parts;
}

export const templateColumns = (parts: readonly Part[]): string[] =>
  parts.flatMap((p) => ('column' in p ? [p.column] : []));

function cell(v: unknown): string {
  if (v === undefined || v === null) return '';
  return typeof v === 'string'
    ? v
    : typeof v === 'number' || typeof v === 'boolean'
      ? String(v)
      : JSON.stringify(v);
}

const fill = (parts: readonly Part[], r: DataRecord) =>
  parts.map((p) => ('column' in p ? cell(r[p.column]) : p.text)).join('');

/** mulberry32: a small seeded generator, enough to pick phrasings reproducibly. */
export function seededUniform(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Checks every template against the file's columns before any row is made. */
export function checkTemplates(spec: TemplateSpec, columns: readonly string[]): void {
  if (spec.instructions.length === 0) throw new UserError('give at least one instruction template');
  const named: [string, string][] = [
    ...spec.instructions.map((t, i): [string, string] => [
      spec.instructions.length > 1 ? `instruction template ${i + 1}` : 'instruction template',
      t,
    ]),
    ...(spec.input !== undefined ? [['input template', spec.input] as [string, string]] : []),
    ['output template', spec.output],
  ];
  const have = new Set(columns);
  for (const [what, t] of named) {
    const missing = templateColumns(parseTemplate(t, what)).find((c) => !have.has(c));
    if (missing !== undefined)
      throw new UserError(
        `${what} names the column {${missing}}, which the data does not have (columns: ${columns.join(', ') || 'none'})`,
      );
  }
}

export function applyTemplates(
  records: readonly DataRecord[],
  columns: readonly string[],
  spec: TemplateSpec,
): TemplateResult {
  checkTemplates(spec, columns);
  const ins = spec.instructions.map((t, i) => parseTemplate(t, `instruction template ${i + 1}`));
  const input = spec.input !== undefined ? parseTemplate(spec.input, 'input template') : undefined;
  const output = parseTemplate(spec.output, 'output template');
  const rand = seededUniform(spec.seed ?? 0);
  const out: TemplateResult = { rows: [], phrasing: [], skipped: [] };
  records.forEach((r, index) => {
    const k = Math.floor(rand() * ins.length);
    const row = { instruction: fill(ins[k], r), output: fill(output, r) };
    if (row.output.trim() === '') return void out.skipped.push({ index, reason: 'empty output' });
    if (row.instruction.trim() === '') return void out.skipped.push({ index, reason: 'empty instruction' });
    const inp = input ? fill(input, r) : '';
    out.rows.push(inp !== '' ? { ...row, input: inp } : row);
    out.phrasing.push(k);
  });
  return out;
}
