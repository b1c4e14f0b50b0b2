// The IFD panel's "keep the top k %": highest IFD first, rows without a score never kept, dataset order kept.
import { describe, expect, it } from 'vitest';
import { topByIfd } from './ifd';

describe('keep the top k % by IFD', () => {
  it('keeps the highest-scoring rows in their original order', () => {
    const s = [0.5, null, 1.2, 0.9, 0.1];
    expect(topByIfd(s, 50)).toEqual([2, 3]);
    expect(topByIfd(s, 100)).toEqual([0, 2, 3, 4]);
    expect(topByIfd(s, 1)).toEqual([2]);
    expect(topByIfd([null, null], 50)).toEqual([]);
  });
});
