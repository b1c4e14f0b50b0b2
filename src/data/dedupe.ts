// Self-Instruct's near-duplicate filter (DESIGN §9): rows in file order; a row is kept unless its
// instruction text has ROUGE-L F ≥ threshold with an already kept row's, or the whole row equals a kept
// one exactly. Removed rows name the kept row they duplicate, so the studio can show them as groups.
import { instructionOf } from './instruction';
import { canonicalJson, type DataRecord } from './records';
import { rougeLTokens, rougeTokens } from './rouge';

export const DEFAULT_ROUGE_THRESHOLD = 0.7;

export interface Removal {
  /** Index of the removed row in the input. */
  index: number;
  /** Index of the kept row it duplicates. */
  of: number;
  reason: 'exact' | 'near';
  /** ROUGE-L F of the two instruction texts (1 for an exact duplicate). */
  rougeL: number;
}

export interface DedupeResult {
  kept: number[];
  removed: Removal[];
}

/** Incremental index of kept instructions: ROUGE-L of a new text against every kept one. */
export class RougeIndex {
  private tokens: string[][] = [];
  private ids: number[] = [];

  add(id: number, text: string): void {
    this.tokens.push(rougeTokens(text));
    this.ids.push(id);
  }

  get size(): number {
    return this.ids.length;
  }

  /** The kept text with the highest F-measure against `text` (first one on ties), or undefined if none. */
  best(text: string): { id: number; rougeL: number } | undefined {
    const t = rougeTokens(text);
    let best: { id: number; rougeL: number } | undefined;
    for (let i = 0; i < this.tokens.length; i++) {
      const f = rougeLTokens(this.tokens[i], t).fmeasure;
      if (!best || f > best.rougeL) best = { id: this.ids[i], rougeL: f };
    }
    return best;
  }
}

export function dedupe(
  records: readonly DataRecord[],
  threshold = DEFAULT_ROUGE_THRESHOLD,
  onProgress?: (done: number, total: number) => void,
): DedupeResult {
  const kept: number[] = [];
  const removed: Removal[] = [];
  const exact = new Map<string, number>();
  const index = new RougeIndex();
  records.forEach((r, i) => {
    onProgress?.(i, records.length);
    const key = canonicalJson(r);
    const same = exact.get(key);
    if (same !== undefined) {
      removed.push({ index: i, of: same, reason: 'exact', rougeL: 1 });
      return;
    }
    const text = instructionOf(r);
    if (text !== undefined) {
      const best = index.best(text);
      if (best && best.rougeL >= threshold) {
        removed.push({ index: i, of: best.id, reason: 'near', rougeL: best.rougeL });
        return;
      }
      index.add(i, text);
    }
    exact.set(key, i);
    kept.push(i);
  });
  return { kept, removed };
}
