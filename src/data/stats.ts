// Dataset size and diversity (DESIGN §9 `data stats`): rows per kind, tokens and trained tokens (when a
// tokenizer counted them), a length histogram, exact and near duplicates (Self-Instruct's filter), and
// the distinct leading words of the instructions (Self-Instruct's verb view of diversity).
import { dedupe, DEFAULT_ROUGE_THRESHOLD } from './dedupe';
import { instructionOf, leadingWord } from './instruction';
import type { DataRecord } from './records';
import { normalizeRow } from './rows';

export interface RowTokens {
  tokens: number;
  trained: number;
}

export interface HistogramBin {
  /** Inclusive lower and exclusive upper length. */
  min: number;
  max: number;
  count: number;
}

export interface DatasetStats {
  rows: number;
  /** Rows per detected format (messages, alpaca, sharegpt, prompt_completion, text, tokens, invalid). */
  kinds: Record<string, number>;
  /** null without a model's tokenizer. */
  tokens: number | null;
  trained_tokens: number | null;
  length_histogram: { unit: 'tokens' | 'characters'; bins: HistogramBin[] };
  duplicates: { exact: number; near: number; threshold: number };
  leading_verbs: { rows_with_instruction: number; distinct: number; top: { verb: string; count: number }[] };
}

/** Characters of everything a row says (the unit of the histogram without a tokenizer). */
function rowChars(r: DataRecord): number {
  let n = 0;
  const walk = (v: unknown) => {
    if (typeof v === 'string') n += v.length;
    else if (Array.isArray(v)) v.forEach(walk);
    else if (typeof v === 'object' && v !== null) Object.values(v).forEach(walk);
  };
  walk(r);
  return n;
}

/** Bins with power-of-two upper edges from 16: [0, 16), [16, 32), [32, 64), … up to the longest row. */
export function lengthHistogram(lengths: readonly number[]): HistogramBin[] {
  const bins: HistogramBin[] = [{ min: 0, max: 16, count: 0 }];
  const longest = Math.max(0, ...lengths);
  while (bins[bins.length - 1].max <= longest) {
    const last = bins[bins.length - 1].max;
    bins.push({ min: last, max: last * 2, count: 0 });
  }
  for (const n of lengths) bins[n < 16 ? 0 : Math.floor(Math.log2(n)) - 3].count++;
  return bins;
}

export function datasetStats(
  records: readonly DataRecord[],
  tokens?: readonly (RowTokens | undefined)[],
  topVerbs = 20,
): DatasetStats {
  const kinds: Record<string, number> = {};
  for (const r of records) {
    const n = normalizeRow(r);
    const k = n.ok ? n.row.format : 'invalid';
    kinds[k] = (kinds[k] ?? 0) + 1;
  }
  const counted = tokens?.filter((t): t is RowTokens => t !== undefined);
  const lengths = counted ? counted.map((t) => t.tokens) : records.map(rowChars);
  const { removed } = dedupe(records, DEFAULT_ROUGE_THRESHOLD);
  const verbs = new Map<string, number>();
  let withInstruction = 0;
  for (const r of records) {
    const text = instructionOf(r);
    if (text === undefined) continue;
    withInstruction++;
    const w = leadingWord(text);
    if (w) verbs.set(w, (verbs.get(w) ?? 0) + 1);
  }
  const top = [...verbs]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, topVerbs)
    .map(([verb, count]) => ({ verb, count }));
  return {
    rows: records.length,
    kinds,
    tokens: counted ? counted.reduce((a, t) => a + t.tokens, 0) : null,
    trained_tokens: counted ? counted.reduce((a, t) => a + t.trained, 0) : null,
    length_histogram: { unit: counted ? 'tokens' : 'characters', bins: lengthHistogram(lengths) },
    duplicates: {
      exact: removed.filter((r) => r.reason === 'exact').length,
      near: removed.filter((r) => r.reason === 'near').length,
      threshold: DEFAULT_ROUGE_THRESHOLD,
    },
    leading_verbs: { rows_with_instruction: withInstruction, distinct: verbs.size, top },
  };
}
