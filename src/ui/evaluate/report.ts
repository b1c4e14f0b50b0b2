// What the Evaluate tab computes from a report: the win rate of the tuned model in the user's pairwise
// votes with its Wilson score interval (95 %), and the report as CSV (one line per row, base beside tuned).
import Papa from 'papaparse';
import type { EvalReport } from '../../engine/eval/evaluate';
import type { Vote } from '../../storage/evaluations';

export interface WinRate {
  wins: number;
  losses: number;
  ties: number;
  /** wins / (wins + losses); ties do not count. NaN with no decided vote. */
  rate: number;
  low: number;
  high: number;
}

/** Wilson score interval of k successes in n trials (z = 1.96: 95 %). */
export function wilson(k: number, n: number, z = 1.96): [number, number] {
  if (n === 0) return [0, 1];
  const p = k / n;
  const z2 = z * z;
  const center = (p + z2 / (2 * n)) / (1 + z2 / n);
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / (1 + z2 / n);
  return [Math.max(0, center - half), Math.min(1, center + half)];
}

export function winRate(votes: Record<number, Vote>): WinRate {
  const v = Object.values(votes);
  const wins = v.filter((x) => x === 'tuned').length;
  const losses = v.filter((x) => x === 'base').length;
  const ties = v.filter((x) => x === 'tie').length;
  const n = wins + losses;
  const [low, high] = wilson(wins, n);
  return { wins, losses, ties, rate: n ? wins / n : NaN, low, high };
}

export function reportCsv(report: EvalReport, votes: Record<number, Vote> = {}): string {
  const withBase = report.rows.some((r) => r.base);
  const fields = [
    'row', 'prompt', 'reference', 'prediction', 'exact', 'rougeL', 'loss',
    ...(withBase ? ['base_prediction', 'base_exact', 'base_rougeL', 'base_loss', 'vote'] : []),
  ]; // prettier-ignore
  const data = report.rows.map((r, i) => [
    i + 1,
    r.prompt,
    r.reference,
    r.prediction,
    r.exact,
    r.rougeL,
    r.loss ?? '',
    ...(withBase
      ? [
          r.base?.prediction ?? '',
          r.base?.exact ?? '',
          r.base?.rougeL ?? '',
          r.base?.loss ?? '',
          votes[i] ?? '',
        ]
      : []),
  ]);
  return Papa.unparse({ fields, data }, { newline: '\n' }) + '\n';
}
