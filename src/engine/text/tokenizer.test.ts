// Real tokenizers (Qwen3 byte-level BPE; SentencePiece-style BPE with byte fallback): round trips, special
// ids, and a streaming decoder that never emits a broken character.

import { describe, expect, it } from 'vitest';
import { UserError } from '../errors';
import { createDecodeStream, loadTokenizer } from './tokenizer';
import { llama2, qwen3 } from './test-tokenizers_node';

const samples = [
  'Hello world',
  'café naïve, Ærøskøbing',
  '你好，世界',
  'emoji 😀🦙 and 👩‍👩‍👧',
  '𝔘𝔫𝔦 龘 ཀྵ',
  'two  spaces\n\nnew lines\t end',
];

describe('loadTokenizer', () => {
  it('Qwen3: known ids, special tokens, round trips', () => {
    const { tok } = qwen3();
    expect(tok.encode('Hello world')).toEqual([9707, 1879]);
    expect(tok.encode('<|im_start|>user\nHi<|im_end|>\n')).toEqual([151644, 872, 198, 13048, 151645, 198]);
    expect(tok.vocabSize).toBe(151669);
    expect([tok.bosId, tok.eosId, tok.padId]).toEqual([undefined, 151645, 151643]);
    expect(tok.tokenToId('<|im_end|>')).toBe(151645);
    expect(tok.idToToken(151645)).toBe('<|im_end|>');
    expect(tok.tokenToId('no such token')).toBeUndefined();
    for (const s of samples) expect(tok.decode(tok.encode(s))).toBe(s);
    expect(tok.decode([151644, 872, 198, 13048, 151645], { skipSpecialTokens: true })).toBe('user\nHi');
  });

  it('SentencePiece-style BPE: BOS by default, byte fallback, round trips', () => {
    const { tok } = llama2();
    expect(tok.encode('Hello world')).toEqual([1, 22557, 1526]);
    expect(tok.encode('Hello world', { addSpecialTokens: false })).toEqual([22557, 1526]);
    expect(tok.vocabSize).toBe(32000);
    expect([tok.bosId, tok.eosId, tok.padId]).toEqual([1, 2, undefined]);
    expect(tok.encode('龘', { addSpecialTokens: false })).toEqual([28705, 236, 193, 155]);
    for (const s of samples) {
      expect(tok.decode(tok.encode(s), { skipSpecialTokens: true })).toBe(s);
      expect(tok.decode(tok.encode(s, { addSpecialTokens: false }))).toBe(s);
    }
  });

  it('rejects files that are not tokenizers with a UserError', () => {
    expect(() => loadTokenizer('{oops')).toThrow(UserError);
    expect(() => loadTokenizer('{"version": "1.0"}')).toThrow(/tokenizer\.json: not a tokenizer file/);
  });
});

describe('createDecodeStream', () => {
  for (const [name, load] of [
    ['qwen3', qwen3],
    ['llama2', llama2],
  ] as const) {
    it(`${name}: deltas join to the full text and never split a character`, () => {
      const { tok } = load();
      const text = 'Hi 𝔘𝔫𝔦 and 龘, then 👩‍👩‍👧 done.';
      const ids = tok.encode(text, { addSpecialTokens: false });
      const stream = createDecodeStream(tok);
      const deltas = ids.map((id) => stream.push(id));
      deltas.push(stream.flush());
      expect(deltas.join('')).toBe(tok.decode(ids));
      for (const d of deltas) expect(d).not.toContain('\uFFFD');
      expect(deltas.filter((d) => d === '').length).toBeGreaterThan(1); // byte pieces were held back
    });
  }

  it('keeps the space of the first new token after a prompt (contextIds)', () => {
    const { tok } = llama2();
    const prompt = tok.encode('The capital of France is');
    const all = tok.encode('The capital of France is Paris.');
    expect(all.slice(0, prompt.length)).toEqual(prompt);
    const reply = all.slice(prompt.length);
    const stream = createDecodeStream(tok, { contextIds: prompt });
    expect(reply.map((id) => stream.push(id)).join('') + stream.flush()).toBe(' Paris.');
  });

  it('flush emits a dangling partial character as U+FFFD', () => {
    const { tok } = qwen3();
    const [first] = tok.encode('龘', { addSpecialTokens: false });
    const stream = createDecodeStream(tok);
    expect(stream.push(first)).toBe('');
    expect(stream.flush()).toBe('\uFFFD');
  });
});
