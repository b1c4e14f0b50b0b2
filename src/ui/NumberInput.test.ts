// Number fields keep what the user types: the committed text is parsed as written (0.0002 stays 0.0002,
// 2e-4 is 0.0002), and text that is not a number in range is refused with a message instead of rewritten.
import { describe, expect, it } from 'vitest';
import { parseNumber } from './NumberInput';

describe('parseNumber', () => {
  it('reads what was typed, digit for digit', () => {
    expect(parseNumber('0.0002', {})).toEqual({ value: 0.0002 });
    expect(parseNumber('0.01', { min: 0 })).toEqual({ value: 0.01 });
    expect(parseNumber(' 2e-4 ', {})).toEqual({ value: 0.0002 });
    expect(parseNumber('.5', {})).toEqual({ value: 0.5 });
    expect(parseNumber('400', { integer: true, min: 0 })).toEqual({ value: 400 });
  });

  it('refuses partial, foreign and out-of-range text with a reason', () => {
    expect(parseNumber('', {})).toEqual({ error: 'enter a number' });
    expect(parseNumber('0,0002', {})).toEqual({ error: '"0,0002" is not a number' });
    expect(parseNumber('1e-', {})).toEqual({ error: '"1e-" is not a number' });
    expect(parseNumber('abc', {})).toEqual({ error: '"abc" is not a number' });
    expect(parseNumber('1e999', {})).toEqual({ error: '"1e999" is too large' });
    expect(parseNumber('2.5', { integer: true })).toEqual({ error: 'must be a whole number' });
    expect(parseNumber('-1', { min: 0 })).toEqual({ error: 'must be at least 0' });
    expect(parseNumber('0.95', { max: 0.9 })).toEqual({ error: 'must be at most 0.9' });
  });
});
