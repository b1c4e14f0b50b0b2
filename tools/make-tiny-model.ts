// Writes a tiny randomly initialised model folder in the Hugging Face layout, with a README.
//   npx tsx tools/make-tiny-model.ts --arch qwen3 --out tests/fixtures/tiny-chat
// With only --arch qwen3 this is the random test model tests/fixtures/tiny-chat; the same options give the
// same bytes.

import { parseArgs } from 'node:util';
import { makeTinyModel, type TinyArch, type TinyModelOptions } from '../src/engine/testing/tiny-model';
import { writeTinyModel } from '../src/engine/testing/tiny-model_node';

const USAGE = `usage: npx tsx tools/make-tiny-model.ts --arch llama|qwen2|qwen3 --out DIR
  [--vocab 2048 --hidden 64 --layers 2 --heads 4 --kv-heads 2 --head-dim 16 --intermediate 128
   --untied --rope-scaling llama3 --pad-vocab-to N --seed 0 --dtype F32|BF16|F16]`;

function fail(msg: string): never {
  console.error(`${msg}\n${USAGE}`);
  process.exit(2);
}

const OPTIONS = {
  arch: { type: 'string' },
  out: { type: 'string' },
  vocab: { type: 'string' },
  hidden: { type: 'string' },
  layers: { type: 'string' },
  heads: { type: 'string' },
  'kv-heads': { type: 'string' },
  'head-dim': { type: 'string' },
  intermediate: { type: 'string' },
  untied: { type: 'boolean' },
  'rope-scaling': { type: 'string' },
  'pad-vocab-to': { type: 'string' },
  seed: { type: 'string' },
  dtype: { type: 'string' },
} as const;

const v = (() => {
  try {
    return parseArgs({ options: OPTIONS }).values;
  } catch (e) {
    return fail((e as Error).message);
  }
})();

const int = (name: keyof typeof v): number | undefined => {
  const s = v[name];
  if (s === undefined) return undefined;
  const n = Number(s);
  if (typeof s !== 'string' || !Number.isSafeInteger(n) || n < 0) fail(`--${name} must be an integer`);
  return n;
};

if (!v.arch || !['llama', 'qwen2', 'qwen3'].includes(v.arch)) fail('--arch must be llama, qwen2 or qwen3');
if (!v.out) fail('--out is required');
if (v.dtype && !['F32', 'BF16', 'F16'].includes(v.dtype)) fail('--dtype must be F32, BF16 or F16');
if (v['rope-scaling'] && v['rope-scaling'] !== 'llama3') fail('--rope-scaling must be llama3');

const opts: TinyModelOptions = { arch: v.arch as TinyArch };
const numeric = {
  vocab: int('vocab'),
  hidden: int('hidden'),
  layers: int('layers'),
  heads: int('heads'),
  kvHeads: int('kv-heads'),
  headDim: int('head-dim'),
  intermediate: int('intermediate'),
  padVocabTo: int('pad-vocab-to'),
  seed: int('seed'),
};
for (const [k, n] of Object.entries(numeric)) if (n !== undefined) Object.assign(opts, { [k]: n });
if (v.untied) opts.tied = false;
if (v['rope-scaling']) opts.ropeScaling = 'llama3';
if (v.dtype) opts.dtype = v.dtype as TinyModelOptions['dtype'];

const t0 = performance.now();
const files = makeTinyModel(opts);
const ms = performance.now() - t0;
const config = JSON.parse(files['config.json'] as string) as Record<string, unknown>;
// The command in a fixed option order, so the README does not depend on how the options were typed.
const args = (Object.keys(OPTIONS) as (keyof typeof OPTIONS)[])
  .map((k) => [k, v[k]] as const)
  .map(([k, x]) => (x === true ? `--${k}` : x === undefined || x === false ? '' : `--${k} ${x}`))
  .filter(Boolean)
  .join(' ');
const heads = `${config.num_attention_heads} attention heads (${config.num_key_value_heads} key/value heads)`;
const headDim = config.head_dim ?? Number(config.hidden_size) / Number(config.num_attention_heads);
files['README.md'] = `# Tiny ${v.arch} model

A tiny, randomly initialised ${config.architectures} for trying the studio offline and for tests. It loads
and trains like any Hugging Face model, but it does not know any language until it is trained.

- ${config.num_hidden_layers} layers, hidden size ${config.hidden_size}, ${heads}, head size ${headDim},
  MLP size ${config.intermediate_size}, ${config.tie_word_embeddings ? 'tied' : 'separate'} input and output embeddings, weights in ${config.torch_dtype}.
- Tokenizer: a byte-level BPE of ${config.vocab_size} tokens (Qwen2-style pre-tokenizer) trained on a small
  built-in English corpus, with the ChatML special tokens \`<|endoftext|>\`, \`<|im_start|>\`, \`<|im_end|>\`
  and a ChatML chat template.

Regenerate it (the output is the same bytes every time):

    npx tsx tools/make-tiny-model.ts ${args}
`;
await writeTinyModel(v.out, files);
let total = 0;
for (const [name, data] of Object.entries(files)) {
  const n = typeof data === 'string' ? new TextEncoder().encode(data).length : data.length;
  total += n;
  console.log(`${name.padEnd(24)} ${n.toLocaleString('en-US').padStart(10)} bytes`);
}
console.log(
  `${'total'.padEnd(24)} ${total.toLocaleString('en-US').padStart(10)} bytes; built in ${ms.toFixed(0)} ms`,
);
