// Stop ids from the model files, and stop strings on streamed text.
import { describe, expect, it } from 'vitest';
import { stopIds, TextStopper } from './stops';

describe('stop strings', () => {
  const run = (stops: string[], pieces: string[]) => {
    const s = new TextStopper(stops);
    const shown = pieces.map((p) => s.push(p));
    return { shown, text: shown.join('') + s.flush(), stopped: s.stopped };
  };
  it('stops at a stop string split over several tokens and never shows part of it', () => {
    const r = run(['\nUser:'], ['Hello', ' there', '\n', 'Us', 'er:', ' more']);
    expect(r.text).toBe('Hello there');
    expect(r.stopped).toBe(true);
    expect(r.shown).toEqual(['Hello', ' there', '', '', '', '']);
  });
  it('releases held-back text that did not become a stop string', () => {
    const r = run(['###'], ['a#', '#b', 'c']);
    expect(r.shown).toEqual(['a', '##b', 'c']);
    expect(r.stopped).toBe(false);
  });
  it('flushes the tail when generation ends first', () => {
    expect(run(['END'], ['x', 'EN']).text).toBe('xEN');
  });
});

describe('stop ids', () => {
  it('joins generation_config, config, tokenizer EOS and the template end-of-turn token', () => {
    const tok = { eosId: 7, tokenToId: (t: string) => ({ '<|im_end|>': 9, '<|endoftext|>': 8 })[t] };
    const ids = stopIds(
      { config: { eos_token_id: [2] } as never, files: { generationConfig: { eos_token_id: [2, 3] } } },
      tok as never,
      '{{ "<|im_start|>" + m.role }}{{ "<|im_end|>" }}',
    );
    expect(ids.sort()).toEqual([2, 3, 7, 9]);
  });
});
