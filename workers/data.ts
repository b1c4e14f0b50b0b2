// Data tab work in the worker that needs the loaded model: stored rows → engine rows, token counts per row
// against max length, and the chat-template preview with the trained tokens marked (encode.ts decides
// which tokens are trained). File import is in dataImport.ts.
import type { DataIssue } from '../src/data/formats';
import { normalizeRow, type Row } from '../src/data/rows';
import { UserError } from '../src/engine/errors';
import { encodeRow, countTrained, type EncodeContext } from '../src/engine/text/encode';
import type { TextTokenizer } from '../src/engine/text/tokenizer';
import type { DataRow } from '../src/storage';
import { getModel, type ModelState } from './context';

/** Stored rows → engine Rows; bad rows become issues named "dataset row N" (1-based, as the table shows). */
export function toRows(
  raw: DataRow[],
  name: string,
  vocabSize?: number,
): { rows: Row[]; issues: DataIssue[] } {
  const rows: Row[] = [];
  const issues: DataIssue[] = [];
  raw.forEach((value, i) => {
    const where = `${name} row ${i + 1}`;
    const r = normalizeRow(value, { vocabSize });
    if (r.ok) rows.push({ ...r.row, line: i + 1, where } as Row);
    else issues.push({ where, message: r.message });
  });
  return { rows, issues };
}

/** Without tokenizer.json only pre-tokenized rows work; ids are shown as ⟨id⟩ in the preview. */
function idsOnly(vocabSize: number): TextTokenizer {
  const no = (): never => {
    throw new UserError(
      'this model has no tokenizer.json: only pre-tokenized rows ({"input_ids": …}) can be used',
    );
  };
  return {
    vocabSize,
    encode: no,
    decode: (ids) => ids.map((i) => `⟨${i}⟩`).join(''),
    tokenToId: () => undefined,
    idToToken: () => undefined,
  };
}

export function encodeContext(m: ModelState, maxLen: number, trainOnPrompt: boolean): EncodeContext {
  const tokenizer = m.tokenizer ?? idsOnly(m.model.config.vocab_size);
  return { tokenizer, template: m.template, templateKwargs: m.templateKwargs, maxLen, trainOnPrompt };
}

export interface RowCount {
  tokens: number;
  trained: number;
  truncated: boolean;
  error?: string;
}

export interface PreviewSegment {
  text: string;
  /** 'trained': in the loss; 'prompt': context only; 'cut': beyond max length (dropped). */
  kind: 'trained' | 'prompt' | 'cut';
}

export interface DataPreview {
  counts: RowCount[];
  /** The selected row as the model sees it: decoded token runs, trained or not. */
  segments?: PreviewSegment[];
  /** Whether the model's chat template was used (else rows are concatenated with EOS). */
  templated: boolean;
}

export interface PreviewRequest {
  rows: DataRow[];
  maxLen: number;
  trainOnPrompt: boolean;
  /** Row to render in the template preview (index into rows). */
  index?: number;
  name?: string;
}

export function previewData(req: PreviewRequest): DataPreview {
  const m = getModel();
  const ctx = encodeContext(m, Math.max(2, req.maxLen), req.trainOnPrompt);
  const counts: RowCount[] = [];
  let segments: PreviewSegment[] | undefined;
  req.rows.forEach((value, i) => {
    const r = normalizeRow(value, { vocabSize: m.model.config.vocab_size });
    if (!r.ok) return counts.push({ tokens: 0, trained: 0, truncated: false, error: r.message });
    const row = { ...r.row, line: i + 1, where: `${req.name ?? 'data'} row ${i + 1}` } as Row;
    try {
      // Counting uses an unbounded length so the histogram shows the true length against max-len.
      const full = encodeRow(row, { ...ctx, maxLen: Number.MAX_SAFE_INTEGER });
      counts.push({
        tokens: full.input_ids.length,
        trained: countTrained(full.labels),
        truncated: full.input_ids.length > ctx.maxLen,
      });
      if (i === req.index) segments = segmentsOf(ctx.tokenizer, full.input_ids, full.labels, ctx.maxLen);
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      counts.push({ tokens: 0, trained: 0, truncated: false, error: e.message });
    }
  });
  return { counts, segments, templated: m.template !== undefined };
}

/** Runs of tokens of the same kind, decoded (token 0 is never a target: no logit predicts it). */
function segmentsOf(tok: TextTokenizer, ids: number[], labels: number[], maxLen: number): PreviewSegment[] {
  const out: PreviewSegment[] = [];
  const kind = (t: number): PreviewSegment['kind'] =>
    t >= maxLen ? 'cut' : t > 0 && labels[t] !== -100 ? 'trained' : 'prompt';
  let start = 0;
  for (let t = 1; t <= ids.length; t++) {
    if (t === ids.length || kind(t) !== kind(start)) {
      out.push({ text: tok.decode(ids.slice(start, t)), kind: kind(start) });
      start = t;
    }
  }
  return out;
}
