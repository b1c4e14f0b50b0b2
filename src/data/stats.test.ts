// Dataset stats: kinds, duplicates, leading verbs and the length histogram on a small planted dataset.
import { describe, expect, it } from 'vitest';
import { datasetStats, lengthHistogram } from './stats';

describe('dataset stats', () => {
  const rows = [
    { instruction: 'List three birds.', output: 'robin, wren, owl' },
    { instruction: 'list three birds', output: 'crow, jay, tit' },
    { instruction: 'Write a poem about snow.', output: 'white...' },
    { instruction: 'Write a poem about snow.', output: 'white...' },
    {
      messages: [
        { role: 'user', content: 'Explain rain.' },
        { role: 'assistant', content: 'Water falls.' },
      ],
    },
    { text: 'no instruction here' },
    { foo: 'bar' },
  ];
  it('counts rows per kind, duplicates and distinct leading verbs', () => {
    const s = datasetStats(rows);
    expect(s.rows).toBe(7);
    expect(s.kinds).toEqual({ alpaca: 4, messages: 1, text: 1, invalid: 1 });
    expect(s.duplicates).toEqual({ exact: 1, near: 1, threshold: 0.7 });
    expect(s.leading_verbs.rows_with_instruction).toBe(5);
    expect(s.leading_verbs.distinct).toBe(3);
    expect(s.leading_verbs.top[0]).toEqual({ verb: 'list', count: 2 });
    expect(s.tokens).toBeNull();
    expect(s.length_histogram.unit).toBe('characters');
  });
  it('uses token counts when a tokenizer counted them', () => {
    const s = datasetStats(rows.slice(0, 2), [
      { tokens: 10, trained: 4 },
      { tokens: 40, trained: 7 },
    ]);
    expect(s.tokens).toBe(50);
    expect(s.trained_tokens).toBe(11);
    expect(s.length_histogram).toEqual({
      unit: 'tokens',
      bins: [
        { min: 0, max: 16, count: 1 },
        { min: 16, max: 32, count: 0 },
        { min: 32, max: 64, count: 1 },
      ],
    });
  });
  it('puts each length in the bin with min ≤ n < max', () => {
    const bins = lengthHistogram([0, 15, 16, 31, 32, 64, 127]);
    expect(bins.map((b) => b.count)).toEqual([2, 2, 1, 2]);
    expect(bins[bins.length - 1]).toEqual({ min: 64, max: 128, count: 2 });
  });
});
