// Templates from labelled data: {column} slots, several phrasings chosen per row by the seed, clear
// errors for a missing column or a stray brace, rows with an empty answer skipped and counted.
import { describe, expect, it } from 'vitest';
import { applyTemplates, parseTemplate } from './template';
import { readRecords } from './records';

const csv =
  'word,definition,pos\ncat,a small feline,noun\nrun,move fast,verb\nblue,the colour of the sky,adj\ndog,,noun\n';

describe('templates', () => {
  it('fills {column} slots from a CSV into alpaca rows', () => {
    const f = readRecords(csv, 'words.csv');
    const r = applyTemplates(f.records, f.columns, {
      instructions: ['Define the {pos} "{word}".'],
      output: '{definition}',
    });
    expect(r.rows[0]).toEqual({ instruction: 'Define the noun "cat".', output: 'a small feline' });
    expect(r.rows).toHaveLength(3);
    expect(r.skipped).toEqual([{ index: 3, reason: 'empty output' }]);
  });
  it('picks a phrasing per row with the seed: same seed, same rows; all phrasings used', () => {
    const records = Array.from({ length: 60 }, (_, i) => ({ w: `w${i}`, d: `d${i}` }));
    const spec = { instructions: ['Define {w}.', 'What does {w} mean?', 'Meaning of {w}:'], output: '{d}' };
    const a = applyTemplates(records, ['w', 'd'], { ...spec, seed: 1 });
    const b = applyTemplates(records, ['w', 'd'], { ...spec, seed: 1 });
    const c = applyTemplates(records, ['w', 'd'], { ...spec, seed: 2 });
    expect(a.rows).toEqual(b.rows);
    expect(a.phrasing).not.toEqual(c.phrasing);
    expect(new Set(a.phrasing)).toEqual(new Set([0, 1, 2]));
    expect(a.rows[5].instruction).toContain('w5');
  });
  it('names the missing column and the columns there are', () => {
    expect(() =>
      applyTemplates([{ word: 'cat' }], ['word'], { instructions: ['Define {wrod}.'], output: '{word}' }),
    ).toThrow('instruction template names the column {wrod}, which the data does not have (columns: word)');
    expect(() =>
      applyTemplates([{ word: 'cat' }], ['word'], { instructions: ['Define {word}.'], output: '{label}' }),
    ).toThrow(/output template names the column \{label\}/);
  });
  it('keeps {{ and }} as literal braces and rejects a stray one', () => {
    expect(parseTemplate('{{x}} {y}', 't')).toEqual([{ text: '{x} ' }, { column: 'y' }]);
    expect(() => parseTemplate('a } b', 't')).toThrow(/closes no \{column\} slot/);
    expect(() => parseTemplate('a { b', 't')).toThrow(/opens no \{column\} slot/);
  });
});
