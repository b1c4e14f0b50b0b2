// Rows → token ids and labels (DESIGN §3 "Data rows", "Which tokens are trained"). Labels are HF `labels`:
// not shifted (the loss shifts), −100 where nothing is trained. Chat rows with a template train each
// assistant turn's span render(m[:k+1]) − render(m[:k], add_generation_prompt); without a template rows are
// concatenated with EOS appended. Sequences are cut to maxLen keeping the start.

import { UserError } from '../errors';
import { IGNORE_INDEX, type Message, type Row } from '../../data/rows';
import type { DataIssue } from '../../data/formats';
import type { TextTokenizer } from './tokenizer';
import { renderChat, type RenderOptions } from './template';

export interface EncodeContext {
  tokenizer: TextTokenizer;
  /** The model's chat template; without one, chat rows are concatenated (base models). */
  template?: string;
  /** Same kwargs at training and chat time, e.g. { enable_thinking: false } for Qwen3. */
  templateKwargs?: Record<string, unknown>;
  maxLen: number;
  /** Train on every token (prompt included) instead of the assistant spans only. */
  trainOnPrompt: boolean;
}

export interface EncodedRow {
  input_ids: number[];
  labels: number[];
  truncated: boolean;
}

export interface EncodeStats {
  /** Examples kept. */
  rows: number;
  /** Kept examples that were cut to maxLen. */
  truncated: number;
  /** Rows dropped because no label is left to train on. */
  droppedEmpty: number;
  /** Input tokens over the kept examples. */
  tokens: number;
  /** Tokens that enter the loss: labels[t] ≠ −100 for t ≥ 1 (label 0 has no logit predicting it). */
  trainedTokens: number;
}

/** Number of labels the shifted loss uses (position 0 is never a target). */
export function countTrained(labels: readonly number[]): number {
  let n = 0;
  for (let t = 1; t < labels.length; t++) if (labels[t] !== IGNORE_INDEX) n++;
  return n;
}

/** Separator between turns when a chat row is concatenated without a template. */
const separator = (row: Row) => (row.format === 'prompt_completion' ? '' : '\n\n');

export function encodeRow(row: Row, ctx: EncodeContext): EncodedRow {
  checkMaxLen(ctx.maxLen);
  const tok = ctx.tokenizer;
  let ids: number[];
  let labels: number[];
  if (row.kind === 'tokens') {
    const bad = row.input_ids.find((id) => id >= tok.vocabSize);
    if (bad !== undefined)
      throw new UserError(`token id ${bad} is outside the vocabulary (size ${tok.vocabSize})`, row.where);
    ids = row.input_ids.slice();
    labels = row.labels.slice();
  } else if (row.kind === 'text') {
    ids = withEos(tok.encode(row.text), tok, row.where);
    labels = ids.slice();
  } else if (ctx.template !== undefined) {
    const { text, spans } = templateSpans(row.messages, ctx, row.where);
    ({ ids, labels } = tokenizeMarked(tok, text, spans, false));
  } else {
    const { text, spans } = concatSpans(row.messages, separator(row));
    ({ ids, labels } = tokenizeMarked(tok, text, spans, true));
    const n = ids.length;
    ids = withEos(ids, tok, row.where);
    if (ids.length > n) labels.push(ids[n]);
  }
  if (ctx.trainOnPrompt && row.kind !== 'tokens') labels = ids.slice();
  const truncated = ids.length > ctx.maxLen;
  if (truncated) {
    ids = ids.slice(0, ctx.maxLen);
    labels = labels.slice(0, ctx.maxLen);
  }
  return { input_ids: ids, labels, truncated };
}

export function encodeDataset(
  rows: readonly Row[],
  ctx: EncodeContext,
): { examples: EncodedRow[]; stats: EncodeStats; issues: DataIssue[] } {
  const examples: EncodedRow[] = [];
  const issues: DataIssue[] = [];
  checkMaxLen(ctx.maxLen);
  const stats: EncodeStats = { rows: 0, truncated: 0, droppedEmpty: 0, tokens: 0, trainedTokens: 0 };
  for (const row of rows) {
    let ex: EncodedRow;
    try {
      ex = encodeRow(row, ctx);
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      issues.push({
        where: e.where ?? row.where,
        message: e.where ? e.message.slice(e.where.length + 2) : e.message,
      });
      continue;
    }
    const trained = countTrained(ex.labels);
    if (trained === 0) {
      stats.droppedEmpty++;
      const why = ex.truncated ? `after truncation to ${ctx.maxLen} tokens` : '(every label is -100)';
      issues.push({ where: row.where, message: `nothing to train on ${why}` });
      continue;
    }
    examples.push(ex);
    stats.rows++;
    if (ex.truncated) stats.truncated++;
    stats.tokens += ex.input_ids.length;
    stats.trainedTokens += trained;
  }
  return { examples, stats, issues };
}

/** Prompt ids for chat-time generation, built exactly as training builds the prompt part of a row. */
export function encodeChatPrompt(
  messages: readonly Message[],
  ctx: Pick<EncodeContext, 'tokenizer' | 'template' | 'templateKwargs'>,
): number[] {
  if (ctx.template === undefined)
    return ctx.tokenizer.encode(messages.map((m) => m.content + '\n\n').join(''), { addSpecialTokens: true });
  const text = renderChat(ctx.template, messages, { ...renderOpts(ctx), addGenerationPrompt: true });
  return ctx.tokenizer.encode(text, { addSpecialTokens: false });
}

function checkMaxLen(maxLen: number): void {
  if (!Number.isInteger(maxLen) || maxLen < 2)
    throw new UserError(`max length must be an integer ≥ 2, got ${maxLen}`);
}

function withEos(ids: number[], tok: TextTokenizer, where: string): number[] {
  if (tok.eosId === undefined)
    throw new UserError('the tokenizer has no EOS token (eos_token in tokenizer_config.json)', where);
  return ids[ids.length - 1] === tok.eosId ? ids : [...ids, tok.eosId];
}

function renderOpts(
  ctx: Pick<EncodeContext, 'tokenizer' | 'templateKwargs'>,
): Omit<RenderOptions, 'addGenerationPrompt'> {
  const tok = ctx.tokenizer;
  return {
    bosToken: tok.bosId !== undefined ? tok.idToToken(tok.bosId) : undefined,
    eosToken: tok.eosId !== undefined ? tok.idToToken(tok.eosId) : undefined,
    extra: ctx.templateKwargs,
  };
}

type Span = [start: number, end: number];

/** Base-model layout: turns joined by `sep`; each assistant turn's text is trained (EOS added by the caller). */
function concatSpans(messages: readonly Message[], sep: string): { text: string; spans: Span[] } {
  let text = '';
  const spans: Span[] = [];
  messages.forEach((m, i) => {
    if (i > 0) text += sep;
    if (m.role === 'assistant') spans.push([text.length, text.length + m.content.length]);
    text += m.content;
  });
  return { text, spans };
}

/**
 * The whole conversation rendered once, and the character span of each assistant turn k in it: the text
 * S = render(m[:k+1]) − render(m[:k], gen). Usually render(m[:k+1]) is a prefix of the whole rendering and the
 * span is where it ends. Some templates render history turns differently from the last one (Qwen3 drops the
 * empty think block from earlier assistant turns): then S is found where the two renderings part.
 */
function templateSpans(
  messages: readonly Message[],
  ctx: EncodeContext,
  where: string,
): { text: string; spans: Span[] } {
  const opts = renderOpts(ctx);
  const render = (n: number, gen: boolean) =>
    renderChat(ctx.template!, messages.slice(0, n), { ...opts, addGenerationPrompt: gen });
  const withWhere = <T>(f: () => T): T => {
    try {
      return f();
    } catch (e) {
      throw e instanceof UserError && !e.where ? new UserError(e.message, where) : e;
    }
  };
  return withWhere(() => {
    const full = render(messages.length, false);
    const spans: Span[] = [];
    let cursor = 0;
    let turn = 0;
    for (let k = 0; k < messages.length; k++) {
      if (messages[k].role !== 'assistant') continue;
      turn++;
      const prompt = render(k, true);
      const upto = render(k + 1, false);
      const unstable = (why: string) =>
        new UserError(`chat template is not prefix-stable: ${why} (assistant turn ${turn})`, where);
      if (!upto.startsWith(prompt) || upto.length === prompt.length)
        throw unstable('the generation prompt is not a prefix of the rendering with the reply');
      const span = upto.slice(prompt.length);
      let start = -1;
      if (full.startsWith(upto)) start = prompt.length;
      else {
        let d = 0;
        while (d < upto.length && full[d] === upto[d]) d++;
        for (let p = Math.min(d, full.length - span.length); p >= cursor && start < 0; p--)
          if (full.startsWith(span, p)) start = p;
      }
      if (start < cursor)
        throw unstable('the whole conversation does not contain the reply as rendered alone');
      spans.push([start, start + span.length]);
      cursor = start + span.length;
    }
    return { text: full, spans };
  });
}

/**
 * Tokenizes `text` once and labels the tokens inside `spans` (others −100). Token boundaries come from
 * tokenizing the text in pieces cut at the span edges: when the pieces' ids concatenate to the whole
 * text's ids (the usual case, spans start and end at special tokens or newlines) the edges are exact at
 * linear cost. Otherwise (e.g. a SentencePiece normalizer that prepends "▁" to every encode call) each edge
 * is located by tokenizing the text up to it: the longest common prefix with the whole text's ids is the
 * number of tokens before the edge; a token straddling an edge counts as inside the span.
 */
function tokenizeMarked(
  tok: TextTokenizer,
  text: string,
  spans: readonly Span[],
  addSpecialTokens: boolean,
): { ids: number[]; labels: number[] } {
  const ids = tok.encode(text, { addSpecialTokens });
  const edges = [...new Set(spans.flat())].filter((c) => c > 0 && c < text.length).sort((a, b) => a - b);
  const tokenIndex = new Map<number, { before: number; exact: boolean }>([
    [0, { before: 0, exact: true }],
    [text.length, { before: ids.length, exact: true }],
  ]);
  const cuts = [0, ...edges, text.length];
  const pieces = cuts
    .slice(1)
    .map((end, i) => tok.encode(text.slice(cuts[i], end), { addSpecialTokens: addSpecialTokens && i === 0 }));
  const joined = pieces.flat();
  if (joined.length === ids.length && joined.every((id, i) => id === ids[i])) {
    let n = 0;
    pieces.forEach((p, i) => tokenIndex.set(cuts[i + 1], { before: (n += p.length), exact: true }));
  } else {
    for (const c of edges) {
      const pre = tok.encode(text.slice(0, c), { addSpecialTokens });
      let n = 0;
      while (n < pre.length && n < ids.length && pre[n] === ids[n]) n++;
      tokenIndex.set(c, { before: n, exact: n === pre.length });
    }
  }
  const labels = new Array<number>(ids.length).fill(IGNORE_INDEX);
  for (const [s, e] of spans) {
    const a = tokenIndex.get(s)!.before;
    const end = tokenIndex.get(e)!;
    const b = Math.min(ids.length, end.exact ? end.before : end.before + 1);
    for (let t = a; t < b; t++) labels[t] = ids[t];
  }
  return { ids, labels };
}
