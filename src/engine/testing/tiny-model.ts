// Tiny randomly initialised models in the real Hugging Face layout (config.json, model.safetensors,
// generation_config.json, tokenizer.json, tokenizer_config.json) for tests and the e2e suite. Tensor names
// and shapes come from expectedWeights(parseConfig(config)), so the files are exactly what the loader
// reads; the same options always give the same bytes.

import { writeSafetensors, type StWriteTensor } from '../io/safetensors';
import { parseConfig } from '../model/config';
import { expectedWeights } from '../model/weights';
import { loadTokenizer } from '../text/tokenizer';
import { chatmlTokenizerConfig, ENDOFTEXT, tokenizerJson, trainBpe } from './bpe';
import { corpusText } from './corpus';
import { mulberry32 } from './random';

export type TinyArch = 'llama' | 'qwen2' | 'qwen3';

export interface TinyTokenizer {
  tokenizerJson: string;
  tokenizerConfig: Record<string, unknown>;
}

export interface TinyModelOptions {
  arch: TinyArch;
  /** Size of the trained byte-level BPE, special tokens included (default 2048). */
  vocab?: number;
  hidden?: number;
  layers?: number;
  heads?: number;
  kvHeads?: number;
  headDim?: number;
  intermediate?: number;
  /** lm_head shares embed_tokens (default true, as SmolLM2, Qwen2.5-0.5B and Qwen3-0.6B). */
  tied?: boolean;
  /** Llama 3.x frequency scaling (llama only; default none). */
  ropeScaling?: 'llama3' | null;
  /** Round config vocab_size up to a multiple of this, leaving rows no token uses (as Qwen pads). */
  padVocabTo?: number;
  seed?: number;
  /** Storage dtype of the weights (default F32). */
  dtype?: 'F32' | 'BF16' | 'F16';
  /** Use this tokenizer instead of the trained ChatML BPE. */
  tokenizer?: TinyTokenizer;
}

/** The random test model committed as tests/fixtures/tiny-chat: qwen3 with every other option default. */
export const TINY_CHAT: Readonly<TinyModelOptions> = { arch: 'qwen3' };

const MAX_POSITIONS = 4096;
const TRANSFORMERS_VERSION = '4.51.3';
const TORCH_DTYPE = { F32: 'float32', BF16: 'bfloat16', F16: 'float16' } as const;
const ARCHITECTURE = { llama: 'LlamaForCausalLM', qwen2: 'Qwen2ForCausalLM', qwen3: 'Qwen3ForCausalLM' };

const tokenizers = new Map<number, TinyTokenizer>();

/** The ChatML byte-level BPE trained on corpusText(), cached per vocabulary size for the process. */
export function defaultTokenizer(vocab = 2048): TinyTokenizer {
  let t = tokenizers.get(vocab);
  if (!t) {
    const bpe = trainBpe(corpusText(), vocab);
    t = { tokenizerJson: tokenizerJson(bpe), tokenizerConfig: chatmlTokenizerConfig(bpe, MAX_POSITIONS) };
    tokenizers.set(vocab, t);
  }
  return t;
}

/** FNV-1a of the tensor name mixed with the seed: each tensor's values do not depend on the others. */
function tensorSeed(seed: number, name: string): number {
  let h = (0x811c9dc5 ^ Math.imul(seed, 0x9e3779b1)) >>> 0;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/** ~N(mean, std²) as a sum of 12 uniforms (Irwin–Hall): no transcendental functions, exact everywhere. */
function normal(n: number, seed: number, mean: number, std: number): Float32Array {
  const r = mulberry32(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let s = -6;
    for (let j = 0; j < 12; j++) s += r();
    out[i] = mean + std * s;
  }
  return out;
}

/**
 * Scale per tensor kind. Projections ~N(0, 1/in) keep activations at unit scale; embeddings and lm_head
 * ~N(0, 4/hidden) give logits of std ≈ 2 after the final norm, so greedy decoding has clear winners;
 * norms ≈ 1 with a little spread so a forgotten norm weight shows in tests; biases small.
 */
function init(name: string, shape: number[], hidden: number): { mean: number; std: number } {
  if (name.endsWith('norm.weight')) return { mean: 1, std: 0.1 };
  if (name.endsWith('.bias')) return { mean: 0, std: 0.1 };
  if (name === 'model.embed_tokens.weight' || name === 'lm_head.weight')
    return { mean: 0, std: 2 / Math.sqrt(hidden) };
  return { mean: 0, std: 1 / Math.sqrt(shape[1]) };
}

function configJson(o: Required<Omit<TinyModelOptions, 'tokenizer'>>, ids: Ids, vocabSize: number) {
  const { arch } = o;
  const c: Record<string, unknown> = {
    architectures: [ARCHITECTURE[arch]],
    attention_bias: false,
    attention_dropout: 0,
    bos_token_id: ids.bos,
    eos_token_id: ids.eos,
    head_dim: o.headDim,
    hidden_act: 'silu',
    hidden_size: o.hidden,
    initializer_range: 0.02,
    intermediate_size: o.intermediate,
    max_position_embeddings: MAX_POSITIONS,
    max_window_layers: o.layers,
    mlp_bias: false,
    model_type: arch,
    num_attention_heads: o.heads,
    num_hidden_layers: o.layers,
    num_key_value_heads: o.kvHeads,
    pretraining_tp: 1,
    rms_norm_eps: arch === 'llama' ? 1e-5 : 1e-6,
    rope_scaling: null,
    rope_theta: arch === 'llama' ? (o.ropeScaling ? 500000 : 100000) : 1000000,
    sliding_window: null,
    tie_word_embeddings: o.tied,
    torch_dtype: TORCH_DTYPE[o.dtype],
    transformers_version: TRANSFORMERS_VERSION,
    use_cache: true,
    use_sliding_window: false,
    vocab_size: vocabSize,
  };
  // Keys each transformers config class has (Qwen2 has no attention_bias, head_dim is derived there).
  const absent: Record<TinyArch, string[]> = {
    llama: ['max_window_layers', 'sliding_window', 'use_sliding_window'],
    qwen2: [
      'attention_bias',
      'mlp_bias',
      'pretraining_tp',
      ...(o.headDim * o.heads === o.hidden ? ['head_dim'] : []),
    ],
    qwen3: ['mlp_bias', 'pretraining_tp'],
  };
  for (const k of absent[arch]) delete c[k];
  if (o.ropeScaling === 'llama3') {
    c.rope_scaling = {
      factor: 32,
      high_freq_factor: 4,
      low_freq_factor: 1,
      original_max_position_embeddings: 8192,
      rope_type: 'llama3',
    };
  }
  return c;
}

interface Ids {
  bos: number | null;
  eos: number;
  /** generation_config's stop ids: the end of turn, then <|endoftext|> where it exists. */
  stops: number[];
  pad: number | null;
}

function tokenIds(tok: TinyTokenizer): { ids: Ids; size: number } {
  const t = loadTokenizer(tok.tokenizerJson, tok.tokenizerConfig);
  const endoftext = t.tokenToId(ENDOFTEXT);
  const eos = t.eosId ?? endoftext;
  if (eos === undefined) throw new Error('tiny model: the tokenizer has no eos_token');
  const stops = [...new Set([eos, ...(endoftext === undefined ? [] : [endoftext])])];
  const bos = t.bosId ?? endoftext ?? null;
  return { ids: { bos, eos, stops, pad: t.padId ?? null }, size: t.vocabSize };
}

const json = (v: unknown) => JSON.stringify(v, null, 2) + '\n';

/** A complete model folder as files (JSON as strings, weights as bytes). Deterministic for given options. */
export function makeTinyModel(opts: TinyModelOptions): Record<string, Uint8Array | string> {
  const o: Required<Omit<TinyModelOptions, 'tokenizer'>> = {
    arch: opts.arch,
    vocab: opts.vocab ?? 2048,
    hidden: opts.hidden ?? 64,
    layers: opts.layers ?? 2,
    heads: opts.heads ?? 4,
    kvHeads: opts.kvHeads ?? 2,
    headDim: opts.headDim ?? 16,
    intermediate: opts.intermediate ?? 128,
    tied: opts.tied ?? true,
    ropeScaling: opts.ropeScaling ?? null,
    padVocabTo: opts.padVocabTo ?? 1,
    seed: opts.seed ?? 0,
    dtype: opts.dtype ?? 'F32',
  };
  if (o.ropeScaling && o.arch !== 'llama') throw new Error('tiny model: llama3 RoPE scaling is llama-only');
  const tok = opts.tokenizer ?? defaultTokenizer(o.vocab);
  const { ids, size } = tokenIds(tok);
  const vocabSize = Math.ceil(size / o.padVocabTo) * o.padVocabTo;
  const config = configJson(o, ids, vocabSize);

  const tensors: Record<string, StWriteTensor> = {};
  for (const [name, shape] of expectedWeights(parseConfig(config))) {
    const n = shape.reduce((a, b) => a * b, 1);
    const { mean, std } = init(name, shape, o.hidden);
    tensors[name] = { dtype: o.dtype, shape, data: normal(n, tensorSeed(o.seed, name), mean, std) };
  }
  const generation: Record<string, unknown> = { bos_token_id: ids.bos, eos_token_id: ids.stops };
  if (ids.pad !== null) generation.pad_token_id = ids.pad;
  generation.transformers_version = TRANSFORMERS_VERSION;

  return {
    'config.json': json(config),
    'generation_config.json': json(generation),
    'model.safetensors': writeSafetensors(tensors, { format: 'pt' }),
    'tokenizer.json': tok.tokenizerJson,
    'tokenizer_config.json': json(tok.tokenizerConfig),
  };
}
