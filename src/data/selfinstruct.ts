// Self-Instruct (Wang et al. 2023) with a local model, as DESIGN §9 `data generate` specifies: each attempt
// prompts with a few sampled seed and generated instructions, parses a new instruction (+ input), asks the
// model for its output, and keeps the row only if both are non-empty, within length limits, not a copy of
// the prompt, and its instruction text has ROUGE-L < 0.7 against every seed's and kept row's. Stops at N
// kept rows, after a bounded number of attempts, or when cancelled (what was kept stays kept).
import { UserError } from '../errors';
import { RougeIndex } from './dedupe';
import { instructionOf } from './instruction';
import type { DataRecord } from './records';
import { seededUniform } from './template';

export interface GeneratedRow {
  instruction: string;
  input?: string;
  output: string;
}

export type Rejection =
  'unparseable' | 'empty_output' | 'too_short' | 'too_long' | 'copy_of_prompt' | 'similar' | 'failed';

export interface SelfInstructModel {
  /** Continues a plain-text prompt (no chat template): the instruction-generation step. */
  complete(prompt: string, seed: number): Promise<string>;
  /** The model's answer to a row, as a chat turn: the output-generation step. */
  answer(row: { instruction: string; input?: string }, seed: number): Promise<string>;
}

export interface SelfInstructOptions {
  n: number;
  seed?: number;
  /** Generation attempts before giving up (default max(20, 5·n)). */
  maxAttempts?: number;
  /** Example instructions shown per prompt (Self-Instruct: 8; fewer for small models). */
  examples?: number;
  /** ROUGE-L F at or above which a new instruction is too similar. */
  threshold?: number;
  /** Instruction length in words (Self-Instruct keeps 3–150); output length in characters. */
  minWords?: number;
  maxWords?: number;
  maxOutputChars?: number;
  signal?: { aborted: boolean };
  onProgress?: (p: SelfInstructProgress) => void;
}

export interface SelfInstructProgress {
  kept: number;
  attempts: number;
  n: number;
  maxAttempts: number;
  last?: { row?: GeneratedRow; rejected?: Rejection; rougeL?: number };
}

export interface SelfInstructResult {
  rows: GeneratedRow[];
  attempts: number;
  rejected: Partial<Record<Rejection, number>>;
  cancelled: boolean;
}

/** Instructions of the seed rows; a seed file without any is an error. */
export function seedInstructions(records: readonly DataRecord[]): string[] {
  const out = records.map(instructionOf).filter((s): s is string => !!s && s.trim() !== '');
  if (out.length === 0)
    throw new UserError(
      'the seed tasks have no instruction: give rows with "instruction", "prompt" or a user turn',
    );
  return out;
}

/** Self-Instruct's instruction-generation prompt: numbered tasks, the model writes the next one. */
export function instructionPrompt(examples: readonly string[]): string {
  const lines = examples.map((e, i) => `Task ${i + 1}: ${e.replace(/\s+/g, ' ').trim()}`);
  return `Come up with a series of tasks:\n\n${lines.join('\n')}\nTask ${examples.length + 1}:`;
}

/** The first task the model wrote: text up to the next "Task k:" or blank line; "Input:" splits off the input. */
export function parseInstruction(completion: string): { instruction: string; input?: string } | null {
  const body = completion.split(/\n\s*\n|\n?Task \d+\s*:/)[0] ?? '';
  const m = /^([\s\S]*?)(?:\n?\s*Input\s*:\s*([\s\S]*))?$/.exec(body);
  const instruction = (m?.[1] ?? '').replace(/\s+/g, ' ').trim();
  const input = (m?.[2] ?? '').trim();
  if (instruction === '') return null;
  return input !== '' ? { instruction, input } : { instruction };
}

const words = (s: string) => s.split(/\s+/).filter(Boolean).length;

export async function selfInstruct(
  model: SelfInstructModel,
  seeds: readonly string[],
  opts: SelfInstructOptions,
): Promise<SelfInstructResult> {
  if (!(opts.n >= 1)) throw new UserError('--n must be at least 1');
  if (seeds.length === 0) throw new UserError('no seed instructions');
  const threshold = opts.threshold ?? 0.7;
  const maxAttempts = opts.maxAttempts ?? Math.max(20, 5 * opts.n);
  const k = opts.examples ?? 4;
  const [minWords, maxWords] = [opts.minWords ?? 3, opts.maxWords ?? 150];
  const maxOutputChars = opts.maxOutputChars ?? 2000;
  const rand = seededUniform(opts.seed ?? 0);
  const index = new RougeIndex();
  seeds.forEach((s, i) => index.add(-1 - i, s));
  const rows: GeneratedRow[] = [];
  const rejected: Partial<Record<Rejection, number>> = {};
  let attempts = 0;
  const progress = (last?: SelfInstructProgress['last']) =>
    opts.onProgress?.({ kept: rows.length, attempts, n: opts.n, maxAttempts, last });
  const reject = (why: Rejection, rougeL?: number) => {
    rejected[why] = (rejected[why] ?? 0) + 1;
    progress({ rejected: why, rougeL });
  };
  while (rows.length < opts.n && attempts < maxAttempts && !opts.signal?.aborted) {
    attempts++;
    // mostly seed tasks, some generated ones, as Self-Instruct samples its pool
    const pool = [...seeds];
    const fromKept = rows.map((r) => r.instruction);
    const shown: string[] = [];
    for (let i = 0; i < k && (pool.length || fromKept.length); i++) {
      const src = fromKept.length && (rand() < 0.25 || !pool.length) ? fromKept : pool;
      shown.push(...src.splice(Math.floor(rand() * src.length), 1));
    }
    const prompt = instructionPrompt(shown);
    const seed = ((opts.seed ?? 0) * 7919 + attempts) | 0;
    let parsed: ReturnType<typeof parseInstruction>;
    try {
      const completion = await model.complete(prompt, seed);
      if (opts.signal?.aborted) {
        attempts--; // a cut-off completion is no attempt
        break;
      }
      parsed = parseInstruction(completion);
    } catch (e) {
      if (e instanceof UserError) throw e;
      reject('failed');
      continue;
    }
    if (!parsed) {
      reject('unparseable');
      continue;
    }
    const text = parsed.input ? `${parsed.instruction} ${parsed.input}` : parsed.instruction;
    const n = words(parsed.instruction);
    if (n < minWords) {
      reject('too_short');
      continue;
    }
    if (n > maxWords) {
      reject('too_long');
      continue;
    }
    if (shown.some((s) => s.replace(/\s+/g, ' ').trim() === parsed.instruction)) {
      reject('copy_of_prompt');
      continue;
    }
    const best = index.best(text);
    if (best && best.rougeL >= threshold) {
      reject('similar', best.rougeL);
      continue;
    }
    const output = (await model.answer(parsed, seed)).trim();
    if (opts.signal?.aborted) {
      attempts--; // a cut-off answer is never kept, and no attempt
      break;
    }
    if (output === '') {
      reject('empty_output');
      continue;
    }
    if (output.length > maxOutputChars) {
      reject('too_long');
      continue;
    }
    const same = (a?: string) =>
      a !== undefined && a.replace(/\s+/g, ' ').trim() === output.replace(/\s+/g, ' ');
    if (same(parsed.instruction) || same(parsed.input) || output.includes(prompt)) {
      reject('copy_of_prompt');
      continue;
    }
    const row: GeneratedRow = { ...parsed, output };
    index.add(rows.length, text);
    rows.push(row);
    progress({ row });
  }
  return { rows, attempts, rejected, cancelled: !!opts.signal?.aborted && rows.length < opts.n };
}
