// Held-out evaluation (DESIGN §9 `evaluate`), shared by the CLI and the studio's Evaluate tab so both give
// the same numbers for a row: the prompt (the conversation up to its last assistant turn, rendered with
// add_generation_prompt), the reference (that turn), the greedy prediction decoded exactly as
// `generate --chat` streams it, exact match after trimming and collapsing whitespace, ROUGE-L, and the
// row's eval loss; the summary's loss is Σ CE / Σ tokens over the rows.
import { UserError } from '../errors';
import type { Message, Row } from '../../data/rows';
import { rougeLF } from '../../data/rouge';
import type { Generator } from '../generate/generator';
import { encodeChatPrompt, encodeRow, type EncodeContext } from '../text/encode';
import { createDecodeStream } from '../text/tokenizer';
import type { RowScorer } from './score';

export interface EvalMetrics {
  prediction: string;
  exact: boolean;
  rougeL: number;
  /** Mean CE over the row's trained tokens (null when truncation left none). */
  loss: number | null;
}

export interface EvalRow extends EvalMetrics {
  prompt: string;
  reference: string;
  base?: EvalMetrics;
}

export interface EvalSummary {
  n: number;
  exact: number;
  rougeL: number;
  loss: number | null;
  base?: { exact: number; rougeL: number; loss: number | null };
}

export interface EvalReport {
  rows: EvalRow[];
  summary: EvalSummary;
}

/** A row's evaluation case: the messages before its last assistant turn, and that turn. */
export interface EvalCase {
  where: string;
  row: Row;
  context: Message[];
  reference: string;
}

/** Rows → cases; a row without a reference answer (text, pre-tokenized) is an error naming it. */
export function evalCases(rows: readonly Row[]): EvalCase[] {
  if (rows.length === 0) throw new UserError('the dataset has no rows to evaluate');
  return rows.map((row) => {
    if (row.kind !== 'chat')
      throw new UserError(
        `a ${row.format} row has no reference answer: evaluate needs rows that end in an answer ` +
          '(messages, instruction/output, conversations or prompt/completion)',
        row.where,
      );
    const last = row.messages.map((m) => m.role).lastIndexOf('assistant');
    return {
      where: row.where,
      row,
      context: row.messages.slice(0, last),
      reference: row.messages[last].content,
    };
  });
}

export const normalizeAnswer = (s: string) => s.trim().replace(/\s+/g, ' ');

export interface Evaluator {
  /** Encoding exactly as training and chat do (template, kwargs, max length; trainOnPrompt false). */
  encode: EncodeContext;
  stopIds: number[];
  maxNewTokens: number;
}

/** Greedy completion of a conversation, decoded as `generate --chat` streams it. */
export async function greedyReply(
  gen: Generator,
  ev: Evaluator,
  context: readonly Message[],
): Promise<{ promptIds: number[]; text: string }> {
  const promptIds = encodeChatPrompt(context, ev.encode);
  if (promptIds.length === 0) throw new UserError('the prompt is empty');
  const stream = createDecodeStream(ev.encode.tokenizer, { contextIds: promptIds });
  let text = '';
  await gen.generate([promptIds], {
    maxNewTokens: ev.maxNewTokens,
    sampling: { temperature: 0, topP: 1, topK: 0, repetitionPenalty: 1 },
    seed: 0,
    stopIds: ev.stopIds,
    onToken: (_, id) => {
      text += stream.push(id);
    },
  });
  return { promptIds, text: text + stream.flush() };
}

/** One row's metrics for one model (the generator's current adapter, and the scorer of the same model). */
export async function evalMetrics(
  gen: Generator,
  scorer: RowScorer,
  ev: Evaluator,
  c: EvalCase,
): Promise<EvalMetrics & { prompt: string; promptIds: number[]; tokens: number }> {
  const { promptIds, text } = await greedyReply(gen, ev, c.context);
  const { loss, tokens } = await scorer.rowLoss(encodeRow(c.row, { ...ev.encode, trainOnPrompt: false }));
  return {
    prompt: ev.encode.tokenizer.decode(promptIds, { skipSpecialTokens: false }),
    promptIds,
    tokens,
    prediction: text,
    exact: normalizeAnswer(text) === normalizeAnswer(c.reference),
    rougeL: rougeLF(c.reference, text),
    loss: tokens > 0 ? loss : null,
  };
}

/** Mean exact, mean ROUGE-L and Σ CE / Σ tokens over rows. */
export function summarize(rows: readonly (EvalMetrics & { tokens?: number })[]): {
  exact: number;
  rougeL: number;
  loss: number | null;
} {
  const n = rows.length;
  let ce = 0;
  let tokens = 0;
  for (const r of rows)
    if (r.loss !== null && r.tokens) {
      ce += r.loss * r.tokens;
      tokens += r.tokens;
    }
  return {
    exact: n ? rows.filter((r) => r.exact).length / n : 0,
    rougeL: n ? rows.reduce((a, r) => a + r.rougeL, 0) / n : 0,
    loss: tokens ? ce / tokens : null,
  };
}

export type RowResult = Awaited<ReturnType<typeof evalMetrics>>;

/** The four numbers of a row for one model, as the report holds them. */
export const metricsOf = ({ prediction, exact, rougeL, loss }: EvalMetrics): EvalMetrics => ({
  prediction,
  exact,
  rougeL,
  loss,
});

/** The report of DESIGN §9 from the tuned (or only) model's rows and, with --compare, the base's. */
export function buildReport(cases: readonly EvalCase[], main: RowResult[], base?: RowResult[]): EvalReport {
  return {
    rows: cases.map((c, i) => ({
      prompt: main[i].prompt,
      reference: c.reference,
      ...metricsOf(main[i]),
      ...(base ? { base: metricsOf(base[i]) } : {}),
    })),
    summary: { n: cases.length, ...summarize(main), ...(base ? { base: summarize(base) } : {}) },
  };
}
