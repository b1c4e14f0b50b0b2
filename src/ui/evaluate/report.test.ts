// Win rate with its Wilson interval (checked against published values) and the CSV export of a report.
import Papa from 'papaparse';
import { describe, expect, it } from 'vitest';
import { reportCsv, wilson, winRate } from './report';

describe('evaluation report', () => {
  it('gives the Wilson score interval of the textbook examples', () => {
    // 8 of 10: 95 % Wilson interval 0.490–0.943 (Newcombe 1998 style tables)
    const [lo, hi] = wilson(8, 10);
    expect(lo).toBeCloseTo(0.4902, 3);
    expect(hi).toBeCloseTo(0.9433, 3);
    // 0 of 10 stays inside [0, 1] and is not degenerate
    expect(wilson(0, 10)[0]).toBe(0);
    expect(wilson(0, 10)[1]).toBeCloseTo(0.2775, 3);
    expect(wilson(0, 0)).toEqual([0, 1]);
  });
  it('counts wins over decided votes; ties are reported apart', () => {
    const w = winRate({ 0: 'tuned', 1: 'tuned', 2: 'base', 3: 'tie', 5: 'tuned' });
    expect(w).toMatchObject({ wins: 3, losses: 1, ties: 1, rate: 0.75 });
    expect(w.low).toBeLessThan(0.75);
    expect(w.high).toBeGreaterThan(0.75);
    expect(winRate({}).rate).toBeNaN();
  });
  it('exports one CSV line per row with the base beside the tuned model and the vote', () => {
    const csv = reportCsv(
      {
        rows: [
          { prompt: 'p, "q"', reference: 'r', prediction: 'x\ny', exact: false, rougeL: 0.5, loss: 1.25,
            base: { prediction: 'b', exact: false, rougeL: 0, loss: 3 } }, // prettier-ignore
        ],
        summary: { n: 1, exact: 0, rougeL: 0.5, loss: 1.25, base: { exact: 0, rougeL: 0, loss: 3 } },
      },
      { 0: 'tuned' },
    );
    const parsed = Papa.parse<string[]>(csv.trim()).data;
    expect(parsed[0]).toEqual(['row', 'prompt', 'reference', 'prediction', 'exact', 'rougeL', 'loss',
      'base_prediction', 'base_exact', 'base_rougeL', 'base_loss', 'vote']); // prettier-ignore
    expect(parsed[1]).toEqual([
      '1',
      'p, "q"',
      'r',
      'x\ny',
      'false',
      '0.5',
      '1.25',
      'b',
      'false',
      '0',
      '3',
      'tuned',
    ]);
  });
});
