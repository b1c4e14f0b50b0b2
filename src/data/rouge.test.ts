// ROUGE-L against rouge_score's documented behaviour (RougeScorer(['rougeL'], use_stemmer=False)): its
// README example, and its tokenizer's rules for case, punctuation, digits, non-ASCII and empty text.
import { describe, expect, it } from 'vitest';
import { lcsLength, rougeL, rougeLF, rougeTokens } from './rouge';

describe('rouge_score tokenizer', () => {
  it('lowercases and turns every run outside [a-z0-9] into a space', () => {
    expect(rougeTokens('The Quick, brown-fox!! jumps...')).toEqual(['the', 'quick', 'brown', 'fox', 'jumps']);
    expect(rougeTokens("Don't stop")).toEqual(['don', 't', 'stop']);
    expect(rougeTokens('snake_case and CamelCase')).toEqual(['snake', 'case', 'and', 'camelcase']);
  });
  it('keeps digits as tokens and splits numbers at their punctuation', () => {
    expect(rougeTokens('Pi is 3.14, not 22/7')).toEqual(['pi', 'is', '3', '14', 'not', '22', '7']);
    expect(rougeTokens('mp3 2x')).toEqual(['mp3', '2x']);
  });
  it('drops non-ASCII letters (they are outside [a-z0-9])', () => {
    expect(rougeTokens('Café naïve 東京')).toEqual(['caf', 'na', 've']);
  });
  it('gives no tokens for empty or punctuation-only text', () => {
    expect(rougeTokens('')).toEqual([]);
    expect(rougeTokens(' ?!, -- ')).toEqual([]);
  });
});

describe('ROUGE-L', () => {
  it("matches rouge_score's README example", () => {
    const s = rougeL('The quick brown fox jumps over the lazy dog', 'The quick brown dog jumps on the log.');
    expect(s.precision).toBeCloseTo(0.625, 12);
    expect(s.recall).toBeCloseTo(0.5555555555555556, 12);
    expect(s.fmeasure).toBeCloseTo(0.5882352941176471, 12);
  });
  it('is 0 when either side is empty, including after tokenizing', () => {
    expect(rougeL('', 'testing one two')).toEqual({ precision: 0, recall: 0, fmeasure: 0 });
    expect(rougeL('testing one two', '')).toEqual({ precision: 0, recall: 0, fmeasure: 0 });
    expect(rougeLF('...', '!!!')).toBe(0);
  });
  it('is 1 for texts that differ only in case and punctuation, 0 with nothing in common', () => {
    expect(rougeLF('Testing, one two.', 'testing one TWO')).toBe(1);
    expect(rougeLF('alpha beta', 'gamma delta')).toBe(0);
  });
  it('uses the longest common subsequence, not a substring; precision is over the prediction', () => {
    expect(lcsLength(['a', 'b', 'c', 'd', 'e'], ['a', 'x', 'c', 'y', 'e'])).toBe(3);
    const s = rougeL('a b c d e', 'a x c y e z');
    expect(s.recall).toBeCloseTo(3 / 5, 12);
    expect(s.precision).toBeCloseTo(3 / 6, 12);
    expect(rougeLF('a b c', 'c b a')).toBeCloseTo(1 / 3, 12);
  });
});
