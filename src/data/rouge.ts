// ROUGE-L as Google's rouge_score computes it with RougeScorer(['rougeL'], use_stemmer=False): text is
// lowercased, every run of characters outside [a-z0-9] becomes a space, tokens are split on spaces; the
// score is the F-measure of the longest common subsequence of the two token lists (0 when either is empty).

/** rouge_score's tokenize(text, stemmer=None). */
export function rougeTokens(text: string): string[] {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, ' ')
    .split(' ')
    .filter((t) => t !== '');
}

/** Length of the longest common subsequence, one row of the table at a time (O(|a|·|b|) time, O(|b|) memory). */
export function lcsLength(a: readonly string[], b: readonly string[]): number {
  let prev = new Uint32Array(b.length + 1);
  let cur = new Uint32Array(b.length + 1);
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++)
      cur[j] = a[i - 1] === b[j - 1] ? prev[j - 1] + 1 : Math.max(prev[j], cur[j - 1]);
    [prev, cur] = [cur, prev];
  }
  return prev[b.length];
}

export interface RougeScore {
  precision: number;
  recall: number;
  fmeasure: number;
}

/** Scores of tokenized texts: precision over the prediction, recall over the target. */
export function rougeLTokens(target: readonly string[], prediction: readonly string[]): RougeScore {
  if (target.length === 0 || prediction.length === 0) return { precision: 0, recall: 0, fmeasure: 0 };
  const lcs = lcsLength(target, prediction);
  const precision = lcs / prediction.length;
  const recall = lcs / target.length;
  const fmeasure = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
  return { precision, recall, fmeasure };
}

/** RougeScorer(['rougeL']).score(target, prediction)['rougeL']. */
export function rougeL(target: string, prediction: string): RougeScore {
  return rougeLTokens(rougeTokens(target), rougeTokens(prediction));
}

/** The F-measure alone: what Self-Instruct's filter and the evaluation report use. */
export const rougeLF = (a: string, b: string): number => rougeL(a, b).fmeasure;
