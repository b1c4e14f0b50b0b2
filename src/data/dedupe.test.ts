// Self-Instruct's dedupe on rows with planted near-duplicates and exact duplicates; the kept set equals an
// independent implementation's (its own tokenizer and a memoised recursive LCS).
import { describe, expect, it } from 'vitest';
import { dedupe } from './dedupe';
import { instructionOf } from './instruction';

/** Independent reference: regex tokens, recursive LCS, quadratic scan over kept rows. */
function referenceKept(rows: Record<string, unknown>[], threshold: number): number[] {
  const tok = (s: string) => s.toLowerCase().match(/[a-z0-9]+/g) ?? [];
  const lcs = (a: string[], b: string[]) => {
    const memo = new Map<string, number>();
    const go = (i: number, j: number): number => {
      if (i === a.length || j === b.length) return 0;
      const k = `${i},${j}`;
      if (!memo.has(k))
        memo.set(k, a[i] === b[j] ? 1 + go(i + 1, j + 1) : Math.max(go(i + 1, j), go(i, j + 1)));
      return memo.get(k)!;
    };
    return go(0, 0);
  };
  const f = (x: string, y: string) => {
    const a = tok(x);
    const b = tok(y);
    if (!a.length || !b.length) return 0;
    const l = lcs(a, b);
    return l === 0 ? 0 : (2 * l) / (a.length + b.length); // 2PR/(P+R) with P = l/|b|, R = l/|a|
  };
  const kept: number[] = [];
  const seen = new Set<string>();
  rows.forEach((r, i) => {
    const key = JSON.stringify(Object.entries(r).sort());
    if (seen.has(key)) return;
    const t = instructionOf(r);
    if (
      t !== undefined &&
      kept.some((k) => instructionOf(rows[k]) !== undefined && f(instructionOf(rows[k])!, t) >= threshold)
    )
      return;
    seen.add(key);
    kept.push(i);
  });
  return kept;
}

const words = 'list name describe write explain give find make tell translate summarize classify'.split(' ');
const nouns = 'colours rivers birds planets poems recipes verbs cities songs tools clouds stones'.split(' ');

function plantedRows(n: number, seed: number) {
  let s = seed;
  const r = () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const pick = <T>(xs: T[]) => xs[Math.floor(r() * xs.length)];
  const rows: Record<string, unknown>[] = [];
  for (let i = 0; i < n; i++) {
    const base = `${pick(words)} three ${pick(nouns)} of ${pick(nouns)} for a ${pick(nouns)} lover`;
    const variant = r();
    if (variant < 0.25 && rows.length)
      rows.push({ ...pick(rows) }); // exact copy
    else if (variant < 0.5 && rows.length) {
      const o = pick(rows);
      const ins = String(o.instruction ?? o.prompt ?? 'x');
      rows.push({ instruction: ins.replace(/three/, 'THREE,') + ' please', output: `answer ${i}` }); // near copy
    } else if (variant < 0.75) rows.push({ instruction: base, input: pick(nouns), output: `answer ${i}` });
    else
      rows.push({
        messages: [
          { role: 'user', content: base },
          { role: 'assistant', content: `a${i}` },
        ],
      });
  }
  return rows;
}

describe('dedupe', () => {
  it('removes planted near-duplicates and exact copies, keeps the rest in order', () => {
    const rows = [
      { instruction: 'List three colours of the rainbow.', output: 'red, orange, yellow' },
      { instruction: 'list three colours of the rainbow', output: 'blue, indigo, violet' }, // near (F = 1)
      { instruction: 'Write a haiku about rain.', output: 'drops...' },
      { instruction: 'Write a haiku about rain.', output: 'drops...' }, // exact
      { instruction: 'Name the capital of France.', input: '', output: 'Paris' },
      { text: 'plain text row' },
      { text: 'plain text row' }, // exact, no instruction
    ];
    const r = dedupe(rows, 0.7);
    expect(r.kept).toEqual([0, 2, 4, 5]);
    expect(r.removed).toEqual([
      { index: 1, of: 0, reason: 'near', rougeL: 1 },
      { index: 3, of: 2, reason: 'exact', rougeL: 1 },
      { index: 6, of: 5, reason: 'exact', rougeL: 1 },
    ]);
  });
  it('keeps a row just under the threshold and removes one at it', () => {
    // 4 shared of 5 and 5 tokens: F = 0.8
    const rows = [
      { prompt: 'a b c d e', completion: 'x' },
      { prompt: 'a b c d f', completion: 'y' },
    ];
    expect(dedupe(rows, 0.8).kept).toEqual([0]);
    expect(dedupe(rows, 0.81).kept).toEqual([0, 1]);
  });
  it('keeps the same rows as an independent implementation', () => {
    for (const seed of [1, 2, 3]) {
      const rows = plantedRows(120, seed);
      const got = dedupe(rows, 0.7);
      expect(got.removed.length).toBeGreaterThan(20);
      expect(got.kept).toEqual(referenceKept(rows, 0.7));
    }
  });
});
