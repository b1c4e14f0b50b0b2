// Trains the embedded model's byte-level BPE on the WordNet text and encodes the corpus and the example
// dataset with it, through the engine's own tokenizer, so pretraining sees exactly the ids the studio makes.
//   npx tsx tools/embedded/tokenize.ts [--data tools/embedded/_data] [--vocab 4096] [--sample-mb 8]
// Writes DATA/tokenizer.json, DATA/tokenizer_config.json, DATA/{train,heldout}.u16 (little-endian uint16
// ids) and DATA/examples.json (prompt and answer ids of public/data/wordnet-cards*.jsonl).

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadTokenizer, type TextTokenizer } from '../../src/engine/text/tokenizer';
import {
  chatmlTokenizerConfig,
  CHATML_SPECIALS,
  tokenizerJson,
  trainBpe,
} from '../../src/engine/testing/bpe';

const SPLIT =
  /'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD]|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+/gu;
const SPECIAL_RE = /(<\|endoftext\|>|<\|im_start\|>|<\|im_end\|>)/;
const MAX_POSITIONS = 4096;

const { values } = parseArgs({
  options: {
    data: { type: 'string', default: 'tools/embedded/_data' },
    vocab: { type: 'string', default: '4096' },
    'sample-mb': { type: 'string', default: '8' },
    'examples-only': { type: 'boolean', default: false },
  },
});
const dir = values.data!;
const vocab = Number(values.vocab);

/** Text with the special-token strings removed: what the BPE learns merges from. */
function plain(text: string): string {
  return text
    .split(SPECIAL_RE)
    .filter((s, i) => i % 2 === 0)
    .join('\n');
}

/** Encodes text holding special-token strings, caching the ids of each pre-tokenized piece. */
function encoder(tok: TextTokenizer) {
  const cache = new Map<string, number[]>();
  const special = new Map(CHATML_SPECIALS.map((s) => [s, tok.tokenToId(s)!]));
  return (text: string, out: number[]) => {
    for (const part of text.split(SPECIAL_RE)) {
      if (!part) continue;
      const sid = special.get(part as (typeof CHATML_SPECIALS)[number]);
      if (sid !== undefined) {
        out.push(sid);
        continue;
      }
      for (const m of part.matchAll(SPLIT)) {
        let ids = cache.get(m[0]);
        if (!ids) {
          ids = tok.encode(m[0], { addSpecialTokens: false });
          cache.set(m[0], ids);
        }
        for (const id of ids) out.push(id);
      }
    }
  };
}

let tj: string;
let tc: Record<string, unknown>;
if (values['examples-only']) {
  // Keep the trained tokenizer and corpus ids; re-encode only the example dataset and held-out sample.
  tj = readFileSync(join(dir, 'tokenizer.json'), 'utf8');
  tc = JSON.parse(readFileSync(join(dir, 'tokenizer_config.json'), 'utf8')) as Record<string, unknown>;
} else {
  const train = readFileSync(join(dir, 'train.txt'), 'utf8');
  const bpeText = plain(train.slice(0, Number(values['sample-mb']) * 1e6));
  const t0 = Date.now();
  const bpe = trainBpe(bpeText, vocab);
  console.log(
    `BPE: ${vocab} tokens from ${(bpeText.length / 1e6).toFixed(1)} MB in ${(Date.now() - t0) / 1000} s`,
  );
  tj = tokenizerJson(bpe);
  tc = chatmlTokenizerConfig(bpe, MAX_POSITIONS);
  writeFileSync(join(dir, 'tokenizer.json'), tj);
  writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify(tc, null, 2) + '\n');
}
const tok = loadTokenizer(tj, tc);
const encode = encoder(tok);

if (!values['examples-only']) {
  const heldout = readFileSync(join(dir, 'heldout.txt'), 'utf8');
  // The cached piece-wise encoding must equal the tokenizer's own on whole text.
  const probe = heldout.slice(0, 20000);
  const viaCache: number[] = [];
  encode(probe, viaCache);
  const whole = tok.encode(probe, { addSpecialTokens: false });
  if (viaCache.join() !== whole.join()) throw new Error('piece-wise encoding differs from the tokenizer');
  for (const name of ['train', 'heldout']) {
    const text = readFileSync(join(dir, `${name}.txt`), 'utf8');
    const t0 = Date.now();
    const ids: number[] = [];
    encode(text, ids);
    writeFileSync(join(dir, `${name}.u16`), new Uint16Array(ids));
    const s = (Date.now() - t0) / 1000;
    console.log(
      `${name}: ${ids.length} tokens (${(text.length / ids.length).toFixed(2)} chars/token) in ${s} s`,
    );
  }
}

const chatPrompt = (u: string) => `<|im_start|>user\n${u}<|im_end|>\n<|im_start|>assistant\n`;
const examples: Record<string, { word: string; prompt: number[]; answer: number[] }[]> = {};
for (const [key, file] of [
  ['train', 'public/data/wordnet-cards.jsonl'],
  ['heldout', 'public/data/wordnet-cards-heldout.jsonl'],
] as const) {
  examples[key] = readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((line) => {
      const [user, assistant] = (JSON.parse(line) as { messages: { content: string }[] }).messages;
      const prompt: number[] = [];
      const answer: number[] = [];
      encode(chatPrompt(user!.content), prompt);
      encode(assistant!.content + '<|im_end|>', answer);
      return { word: /'(.+)'/.exec(user!.content)![1]!, prompt, answer };
    });
}
// Held-out documents as text rows: the engine's eval encodes them and appends EOS.
const sample = readFileSync(join(dir, 'heldout-sample.jsonl'), 'utf8')
  .trim()
  .split('\n')
  .map((line) => {
    const ids: number[] = [];
    encode((JSON.parse(line) as { text: string }).text, ids);
    ids.push(tok.eosId!);
    return ids;
  });
writeFileSync(join(dir, 'examples.json'), JSON.stringify({ ...examples, sample }));
console.log(
  `examples: ${examples.train!.length} training pairs, ${examples.heldout!.length} held-out prompts`,
);
