// Self-Instruct's bookkeeping with a scripted model (the filters are what is tested here; the command on
// the embedded model is tested in src/cli/data.test.ts): each rejection reason counted, kept rows valid and
// mutually dissimilar, bounded attempts, cancel keeps what was kept, a seed file without instructions.
import { describe, expect, it } from 'vitest';
import { rougeLF } from './rouge';
import {
  instructionPrompt,
  parseInstruction,
  seedInstructions,
  selfInstruct,
  type SelfInstructModel,
} from './selfinstruct';

const seeds = [
  'Name three kinds of trees.',
  'Write a short poem about the sea.',
  'Explain why the sky is blue.',
];

/** Plays back the given completions in order; answers with the given outputs. */
function scripted(completions: string[], outputs: string[]): SelfInstructModel & { prompts: string[] } {
  let c = 0;
  let o = 0;
  const prompts: string[] = [];
  return {
    prompts,
    complete: async (prompt) => {
      prompts.push(prompt);
      return completions[c++ % completions.length];
    },
    answer: async () => outputs[o++ % outputs.length],
  };
}

describe('Self-Instruct', () => {
  it('parses the first task the model writes, with an optional input', () => {
    expect(parseInstruction(' Sort these numbers.\nInput: 3, 1, 2\nTask 5: other')).toEqual({
      instruction: 'Sort these numbers.',
      input: '3, 1, 2',
    });
    expect(parseInstruction(' List two fruits.\n\nmore text')).toEqual({ instruction: 'List two fruits.' });
    expect(parseInstruction('   \nTask 6: x')).toBeNull();
    expect(instructionPrompt(['A b c.', 'D e f.'])).toBe(
      'Come up with a series of tasks:\n\nTask 1: A b c.\nTask 2: D e f.\nTask 3:',
    );
  });

  it('counts every rejection by reason and keeps only valid, dissimilar rows', async () => {
    const model = scripted(
      [
        ' Describe a rainy day in the city.', // kept
        '  \n', // unparseable
        ' Hi', // too short
        ' Name three kinds of trees.', // a copy of a task shown in the prompt
        ' name three kinds of trees please', // similar to a seed (F = 0.91)
        ' describe a rainy day in the city please', // similar to a kept row
        ' Translate the word cat into French.', // output empty
        ' Count the vowels in the word banana.', // output echoes the instruction
        ' Give two reasons to learn chess.', // kept
      ],
      ['Grey skies, wet streets.', '', 'Count the vowels in the word banana.', 'Strategy and patience.'],
    );
    const r = await selfInstruct(model, seeds, { n: 2, seed: 0 });
    expect(r.rows).toEqual([
      { instruction: 'Describe a rainy day in the city.', output: 'Grey skies, wet streets.' },
      { instruction: 'Give two reasons to learn chess.', output: 'Strategy and patience.' },
    ]);
    expect(r.attempts).toBe(9);
    expect(r.rejected).toEqual({
      unparseable: 1,
      too_short: 1,
      similar: 2,
      empty_output: 1,
      copy_of_prompt: 2,
    });
    for (const row of r.rows) for (const s of seeds) expect(rougeLF(s, row.instruction)).toBeLessThan(0.7);
    expect(rougeLF(r.rows[0].instruction, r.rows[1].instruction)).toBeLessThan(0.7);
    // prompts show seed tasks, numbered, ending where the model writes the next
    expect(model.prompts[0]).toMatch(
      /^Come up with a series of tasks:\n\nTask 1: .+\n(Task \d: .+\n)*Task \d:$/,
    );
  });

  it('stops after a bounded number of attempts', async () => {
    const model = scripted([' Name three kinds of trees, please.'], ['x']);
    const r = await selfInstruct(model, seeds, { n: 5, maxAttempts: 7 });
    expect(r).toEqual({ rows: [], attempts: 7, rejected: { similar: 7 }, cancelled: false });
  });

  it('keeps what was kept when cancelled', async () => {
    const signal = { aborted: false };
    let i = 0;
    const model: SelfInstructModel = {
      complete: async () =>
        ` Write ${['one', 'a long', 'three odd', 'four'][i++ % 4]} story about number ${i * 37}.`,
      answer: async () => 'Once upon a time.',
    };
    const r = await selfInstruct(model, seeds, {
      n: 10,
      signal,
      onProgress: (p) => {
        if (p.kept === 2) signal.aborted = true;
      },
    });
    expect(r.cancelled).toBe(true);
    expect(r.rows).toHaveLength(2);
  });

  it('refuses seed rows without any instruction', () => {
    expect(() => seedInstructions([{ text: 'just text' }, { input_ids: [1, 2] }])).toThrow(
      /the seed tasks have no instruction/,
    );
    expect(seedInstructions([{ text: 'x' }, { prompt: 'Say hi', completion: 'hi' }])).toEqual(['Say hi']);
  });
});
