// The Data tab's model-backed tools in the worker: IFD per row (src/engine/eval/score, the same rendering
// and trained span as training), token counts for the stats panel, and Self-Instruct with the loaded model
// (src/data/selfinstruct), cancellable; a cancel returns the rows kept so far.
import { UserError } from '../src/engine/errors';
import { ifdScore, RowScorer } from '../src/engine/eval/score';
import { Generator } from '../src/engine/generate/generator';
import { stopIds } from '../src/engine/generate/stops';
import { countTrained, encodeChatPrompt, encodeRow } from '../src/engine/text/encode';
import { createDecodeStream } from '../src/engine/text/tokenizer';
import { selfInstruct, type SelfInstructProgress, type SelfInstructResult } from '../src/data/selfinstruct';
import type { RowTokens } from '../src/data/stats';
import type { DataRow } from '../src/storage';
import { getDeviceModel, getModel, getRuntime } from './context';
import { encodeContext, toRows } from './data';
import type { Job } from './jobs';
import { libraryAdapter } from './library';

/** IFD of each row (null where a row has no single trained span of ≥ 2 tokens, or is not a valid row). */
export async function scoreIfd(
  raw: DataRow[],
  adapterId: string | null,
  maxLen: number,
  onProgress: (done: number, total: number) => void,
  job: Job,
): Promise<(number | null)[]> {
  const m = getModel();
  if (!m.tokenizer) throw new UserError('this model has no tokenizer.json, so it cannot score text rows');
  const ctx = encodeContext(m, maxLen, false);
  const { rows } = toRows(raw, 'dataset', m.model.config.vocab_size);
  const byLine = new Map(rows.map((r) => [r.line - 1, r]));
  const examples = raw.map((_, i) => {
    const r = byLine.get(i);
    return r ? encodeRow(r, ctx) : undefined;
  });
  const adapter = adapterId ? await libraryAdapter(adapterId) : undefined;
  const scorer = await RowScorer.create({
    runtime: await getRuntime(),
    model: m.model,
    device: await getDeviceModel(),
    adapter,
    maxLen: Math.max(2, ...examples.map((e) => e?.input_ids.length ?? 0)),
  });
  const out: (number | null)[] = [];
  try {
    for (let i = 0; i < examples.length; i++) {
      await job.gate();
      const e = examples[i];
      out.push(e ? (await ifdScore(scorer, e)).ifd : null);
      onProgress(i + 1, examples.length);
    }
  } finally {
    await scorer.dispose();
  }
  return out;
}

/** Tokens and trained tokens per row as training would encode it (undefined for an invalid row). */
export function rowTokens(raw: DataRow[], maxLen: number): (RowTokens | undefined)[] {
  const m = getModel();
  const ctx = encodeContext(m, maxLen, false);
  const { rows } = toRows(raw, 'dataset', m.model.config.vocab_size);
  const byLine = new Map(rows.map((r) => [r.line - 1, r]));
  return raw.map((_, i) => {
    const r = byLine.get(i);
    if (!r) return undefined;
    try {
      const e = encodeRow(r, ctx);
      return { tokens: e.input_ids.length, trained: countTrained(e.labels) };
    } catch {
      return undefined;
    }
  });
}

export interface SelfInstructRequest {
  seeds: string[];
  n: number;
  temperature: number;
  seed: number;
  maxAttempts?: number;
  adapterId: string | null;
}

/** Self-Instruct with the loaded model; progress after each attempt; a cancel keeps the rows kept so far. */
export async function runSelfInstruct(
  req: SelfInstructRequest,
  onProgress: (p: SelfInstructProgress) => void,
  job: Job,
): Promise<SelfInstructResult> {
  const m = getModel();
  const tok = m.tokenizer;
  if (!tok) throw new UserError('this model has no tokenizer.json, so it cannot generate');
  const ctx = encodeContext(m, 1024, false);
  const gen = new Generator(await getDeviceModel());
  const adapter = req.adapterId ? await libraryAdapter(req.adapterId) : undefined;
  await gen.setAdapter(adapter ? { ...adapter.meta, weights: adapter.weights } : null);
  const stops = stopIds(m.model, tok, m.template);
  const run = async (ids: number[], seed: number, maxNewTokens: number, until?: RegExp) => {
    const stream = createDecodeStream(tok, { contextIds: ids });
    let text = '';
    await gen.generate([ids], {
      maxNewTokens,
      sampling: { temperature: req.temperature, topP: 1, topK: 0, repetitionPenalty: 1 },
      seed,
      stopIds: stops,
      signal: job.signal,
      onToken: (_, id) => {
        text += stream.push(id);
        return !(until && until.test(text));
      },
    });
    return text + stream.flush();
  };
  try {
    return await selfInstruct(
      {
        complete: (prompt, seed) => run(tok.encode(prompt), seed, 48, /\n\s*\n|\nTask \d/),
        answer: (row, seed) =>
          run(
            encodeChatPrompt(
              [{ role: 'user', content: row.input ? `${row.instruction}\n\n${row.input}` : row.instruction }],
              ctx,
            ),
            seed,
            128,
          ),
      },
      req.seeds,
      { n: req.n, seed: req.seed, maxAttempts: req.maxAttempts, signal: job.signal, onProgress },
    );
  } finally {
    await gen.dispose();
  }
}
