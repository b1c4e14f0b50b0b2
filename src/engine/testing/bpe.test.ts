// The trained byte-level BPE through our tokenizer wrapper: exact round trips of any text, ChatML special
// tokens as single ids, sensible merges, determinism, and the chat template rendering as ChatML.

import { describe, expect, it } from 'vitest';
import { renderChat } from '../text/template';
import { loadTokenizer } from '../text/tokenizer';
import { byteLevelAlphabet, CHATML_TEMPLATE, chatmlTokenizerConfig, tokenizerJson, trainBpe } from './bpe';
import { corpusText } from './corpus';
import { defaultTokenizer } from './tiny-model';

const samples = [
  'Hello world',
  'The quick brown fox jumps over the lazy dog. 1234567890!',
  'café naïve, Ærøskøbing, São Paulo, Zürich',
  '你好，世界',
  'emoji 😀🦙 and 👩‍👩‍👧',
  'two  spaces\n\nnew lines\r\n\ttab   end   ',
  "don't, it's, we're, I'VE, they'll",
  'function f(x) {\n  return x * 2; // double\n}\n',
  '',
  ' leading space',
  '\u0000\u0001\u007f control bytes',
];

describe('byte-level BPE', () => {
  const { tokenizerJson: json, tokenizerConfig } = defaultTokenizer(2048);
  const tok = loadTokenizer(json, tokenizerConfig);

  it('has the requested size, ChatML specials after the BPE vocabulary, and no BOS', () => {
    expect(tok.vocabSize).toBe(2048);
    expect(['<|endoftext|>', '<|im_start|>', '<|im_end|>'].map((t) => tok.tokenToId(t))).toEqual([
      2045, 2046, 2047,
    ]);
    expect([tok.bosId, tok.eosId, tok.padId]).toEqual([undefined, 2047, 2045]);
    const parsed = JSON.parse(json);
    expect(parsed.model.type).toBe('BPE');
    expect(Object.keys(parsed.model.vocab)).toHaveLength(2045);
    expect(parsed.normalizer).toBeNull();
    expect(parsed.pre_tokenizer.pretokenizers.map((p: { type: string }) => p.type)).toEqual([
      'Split',
      'ByteLevel',
    ]);
  });

  it('round-trips any text exactly', () => {
    for (const s of samples) {
      const ids = tok.encode(s);
      expect(ids.every((id) => id >= 0 && id < 2045)).toBe(true);
      expect(tok.decode(ids)).toBe(s);
    }
    const corpus = corpusText();
    expect(tok.decode(tok.encode(corpus))).toBe(corpus);
  });

  it('encodes special tokens as single ids and common words as one token', () => {
    expect(tok.encode('<|im_start|>user\nHi there<|im_end|>\n')).toEqual([
      2046,
      ...tok.encode('user\nHi there'),
      2047,
      ...tok.encode('\n'),
    ]);
    for (const w of [' the', ' and', ' water', 'The']) expect(tok.encode(w)).toHaveLength(1);
    // About four characters per token on its own corpus.
    const corpus = corpusText();
    expect(corpus.length / tok.encode(corpus).length).toBeGreaterThan(3);
  });

  it('splits the way the pre-tokenizer says: merges never cross words or digits', () => {
    const pieces = (s: string) => tok.encode(s).map((id) => tok.idToToken(id));
    expect(pieces('2024')).toEqual(['2', '0', '2', '4']);
    expect(pieces('x the')).toEqual(['x', 'Ġthe']);
  });

  it('is deterministic and fills every size from 1024 to 4096', () => {
    const corpus = corpusText();
    const a = trainBpe(corpus, 1024);
    expect(tokenizerJson(trainBpe(corpus, 1024))).toBe(tokenizerJson(a));
    expect(a.tokens.length + a.specials.length).toBe(1024);
    expect(trainBpe(corpus, 4096).tokens.length).toBe(4093);
    expect(byteLevelAlphabet().map((a) => a.char)).toEqual(a.tokens.slice(0, 256));
    expect(a.tokens.slice(0, 3)).toEqual(['!', '"', '#']);
    expect(a.tokens[188]).toBe('Ā'); // byte 0, as in GPT-2's vocabulary
  });

  it('renders the ChatML template and tokenizes it with single special ids', () => {
    const cfg = chatmlTokenizerConfig(trainBpe(corpusText(), 1024), 4096);
    expect(cfg.chat_template).toBe(CHATML_TEMPLATE);
    expect(tokenizerConfig.chat_template).toBe(CHATML_TEMPLATE);
    const messages = [
      { role: 'system' as const, content: 'Be brief.' },
      { role: 'user' as const, content: 'Hi!' },
      { role: 'assistant' as const, content: 'Hello.' },
    ];
    const text = renderChat(CHATML_TEMPLATE, messages, { addGenerationPrompt: false });
    expect(text).toBe(
      '<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi!<|im_end|>\n' +
        '<|im_start|>assistant\nHello.<|im_end|>\n',
    );
    expect(renderChat(CHATML_TEMPLATE, messages.slice(1, 2), { addGenerationPrompt: true })).toBe(
      '<|im_start|>user\nHi!<|im_end|>\n<|im_start|>assistant\n',
    );
    expect(renderChat(CHATML_TEMPLATE, [], { addGenerationPrompt: true })).toBe('<|im_start|>assistant\n');
    const ids = tok.encode(text);
    expect(ids.filter((id) => id === 2046)).toHaveLength(3);
    expect(ids.filter((id) => id === 2047)).toHaveLength(3);
    expect(tok.decode(ids)).toBe(text);
  });
});
