// A base or merged model as a GGUF file llama.cpp loads, following its convert_hf_to_gguf.py: architecture
// llama | qwen2 | qwen3 with the `<arch>.*` hyperparameters, tensor names in llama.cpp's scheme, q/k rows
// of `llama` permuted for its interleaved RoPE (qwen2/qwen3 use NeoX RoPE: not permuted), `rope_freqs.weight`
// for llama3 RoPE scaling, norms/biases in F32 and matrices in the requested type, and the tokenizer.

import { UserError } from '../errors';
import type { ModelConfig } from '../model/config';
import type { LoadedModel, LoadedTensor } from '../model/weights';
import {
  gv,
  writeGguf,
  type GgmlTypeName,
  type GgufFile,
  type GgufMetadata,
  type GgufTensor,
  type GgufValue,
} from './gguf';
import { ggufTokenizerMetadata, TOKEN_TYPE } from './gguf-tokenizer';

export type GgufDType = 'f32' | 'f16' | 'q8_0';

export interface GgufModelOptions {
  /** Weights to write instead of model.weights (e.g. mergeAdapter's result). */
  weights?: Map<string, LoadedTensor>;
  /** Type of the 2-D weight matrices (norms, biases and rope_freqs stay F32). Default f32. */
  dtype?: GgufDType;
  /** general.name. Default "model". */
  name?: string;
}

/** llama.cpp's `general.file_type` (llama_ftype) for each choice. */
const FILE_TYPE: Record<GgufDType, number> = { f32: 0, f16: 1, q8_0: 7 };

/** HF tensor name → llama.cpp's, or undefined for a name outside the scheme. */
export function ggufTensorName(hf: string): string | undefined {
  const fixed: Record<string, string> = {
    'model.embed_tokens.weight': 'token_embd.weight',
    'model.norm.weight': 'output_norm.weight',
    'lm_head.weight': 'output.weight',
  };
  if (fixed[hf]) return fixed[hf];
  const m = /^model\.layers\.(\d+)\.(.+)\.(weight|bias)$/.exec(hf);
  if (!m) return undefined;
  const local: Record<string, string> = {
    input_layernorm: 'attn_norm',
    'self_attn.q_proj': 'attn_q',
    'self_attn.k_proj': 'attn_k',
    'self_attn.v_proj': 'attn_v',
    'self_attn.o_proj': 'attn_output',
    'self_attn.q_norm': 'attn_q_norm',
    'self_attn.k_norm': 'attn_k_norm',
    post_attention_layernorm: 'ffn_norm',
    'mlp.gate_proj': 'ffn_gate',
    'mlp.up_proj': 'ffn_up',
    'mlp.down_proj': 'ffn_down',
  };
  const name = local[m[2]];
  return name && `blk.${m[1]}.${name}.${m[3]}`;
}

/**
 * llama.cpp's llama uses interleaved RoPE (pairs 2i, 2i+1), HF rotate-half (i, i + hd/2): the converter
 * reorders q/k rows so each head [2, hd/2, …] becomes [hd/2, 2, …]. Applies to weights ([rows, cols]) and
 * biases (cols = 1) and to LoRA B rows alike.
 */
export function permuteRowsForRope(
  data: Float32Array,
  rows: number,
  cols: number,
  nHead: number,
): Float32Array {
  const hd = rows / nHead;
  const half = hd / 2;
  const out = new Float32Array(data.length);
  for (let h = 0; h < nHead; h++) {
    for (let j = 0; j < 2; j++) {
      for (let i = 0; i < half; i++) {
        const src = (h * hd + j * half + i) * cols;
        const dst = (h * hd + i * 2 + j) * cols;
        out.set(data.subarray(src, src + cols), dst);
      }
    }
  }
  return out;
}

/** Heads to permute for a llama q/k tensor (HF name), or 0 when no permutation applies. */
export function ropePermuteHeads(config: ModelConfig, hfName: string): number {
  if (config.model_type !== 'llama') return 0;
  if (/self_attn\.q_proj\.(weight|bias)$/.test(hfName)) return config.num_attention_heads;
  if (/self_attn\.k_proj\.(weight|bias)$/.test(hfName)) return config.num_key_value_heads;
  return 0;
}

/** Checks what llama.cpp's llama / qwen2 / qwen3 graphs cannot express. */
export function checkGgufSupport(config: ModelConfig): void {
  const a = config.model_type;
  if (config.rope_scaling?.rope_type === 'llama3' && a !== 'llama') {
    throw new UserError(`llama3 RoPE scaling on ${a} cannot be exported to GGUF`);
  }
  if (a === 'qwen2' && config.num_attention_heads * config.head_dim !== config.hidden_size) {
    throw new UserError('qwen2 with num_attention_heads × head_dim ≠ hidden_size cannot be exported to GGUF');
  }
  if (a === 'qwen3' && config.o_proj_bias)
    throw new UserError('qwen3 with attention_bias cannot be exported to GGUF');
}

/** The `<arch>.*` hyperparameters (and general.*) for a model config. */
export function ggufArchMetadata(config: ModelConfig, name: string): GgufMetadata {
  checkGgufSupport(config);
  const a = config.model_type;
  const m: GgufMetadata = new Map();
  m.set('general.architecture', gv.str(a));
  m.set('general.type', gv.str('model'));
  m.set('general.name', gv.str(name));
  m.set('general.alignment', gv.u32(32));
  m.set(`${a}.vocab_size`, gv.u32(config.vocab_size));
  m.set(`${a}.context_length`, gv.u32(config.max_position_embeddings));
  m.set(`${a}.embedding_length`, gv.u32(config.hidden_size));
  m.set(`${a}.block_count`, gv.u32(config.num_hidden_layers));
  m.set(`${a}.feed_forward_length`, gv.u32(config.intermediate_size));
  m.set(`${a}.attention.head_count`, gv.u32(config.num_attention_heads));
  m.set(`${a}.attention.head_count_kv`, gv.u32(config.num_key_value_heads));
  m.set(`${a}.attention.key_length`, gv.u32(config.head_dim));
  m.set(`${a}.attention.value_length`, gv.u32(config.head_dim));
  m.set(`${a}.rope.dimension_count`, gv.u32(config.head_dim));
  m.set(`${a}.rope.freq_base`, gv.f32(config.rope_theta));
  m.set(`${a}.attention.layer_norm_rms_epsilon`, gv.f32(config.rms_norm_eps));
  if (config.rope_scaling?.rope_type === 'linear') {
    m.set(`${a}.rope.scaling.type`, gv.str('linear'));
    m.set(`${a}.rope.scaling.factor`, gv.f32(config.rope_scaling.factor));
  }
  return m;
}

/**
 * llama3 RoPE scaling as per-frequency divisors (llama.cpp divides each inverse frequency by its factor),
 * computed as convert_hf_to_gguf.py does: 1 for short wavelengths, `factor` for long ones, smooth between.
 */
export function llama3RopeFactors(config: ModelConfig): Float32Array {
  const s = config.rope_scaling;
  if (s?.rope_type !== 'llama3') throw new Error('not a llama3 rope config');
  const dim = config.head_dim;
  const lowWavelen = s.original_max_position_embeddings / s.low_freq_factor;
  const highWavelen = s.original_max_position_embeddings / s.high_freq_factor;
  const out = new Float32Array(dim / 2);
  for (let i = 0; i < dim / 2; i++) {
    const freq = Math.fround(1 / Math.fround(Math.pow(config.rope_theta, (2 * i) / dim)));
    const wavelen = (2 * Math.PI) / freq;
    if (wavelen < highWavelen) out[i] = 1;
    else if (wavelen > lowWavelen) out[i] = s.factor;
    else {
      const smooth =
        (s.original_max_position_embeddings / wavelen - s.low_freq_factor) /
        (s.high_freq_factor - s.low_freq_factor);
      out[i] = 1 / ((1 - smooth) / s.factor + smooth);
    }
  }
  return out;
}

/**
 * A model without tokenizer.json still needs a vocabulary in node-llama-cpp ("no_vocab" aborts in its
 * tokenizer calls, a SentencePiece one without byte tokens throws): a byte-level BPE placeholder with tokens
 * "[T<id>]", no merges, and the config's BOS/EOS, usable with token ids only.
 */
function placeholderVocab(config: ModelConfig): [string, GgufValue][] {
  const n = config.vocab_size;
  const special = new Set([config.bos_token_id, ...config.eos_token_id]);
  const tokens = Array.from({ length: n }, (_, i) => `[T${i}]`);
  const types = Int32Array.from({ length: n }, (_, i) =>
    special.has(i) ? TOKEN_TYPE.control : TOKEN_TYPE.normal,
  );
  const kv: [string, GgufValue][] = [
    ['tokenizer.ggml.model', gv.str('gpt2')],
    ['tokenizer.ggml.pre', gv.str('default')],
    ['tokenizer.ggml.tokens', gv.arr('string', tokens)],
    ['tokenizer.ggml.token_type', gv.arr('i32', types)],
    ['tokenizer.ggml.merges', gv.arr('string', [])],
    ['tokenizer.ggml.add_bos_token', gv.bool(false)],
    ['tokenizer.ggml.add_eos_token', gv.bool(false)],
  ];
  if (config.bos_token_id !== null && config.bos_token_id < n)
    kv.push(['tokenizer.ggml.bos_token_id', gv.u32(config.bos_token_id)]);
  if (config.eos_token_id.length && config.eos_token_id[0] < n)
    kv.push(['tokenizer.ggml.eos_token_id', gv.u32(config.eos_token_id[0])]);
  return kv;
}

/** Storage type for one tensor under a dtype choice (as the converter: 1-D stays F32). */
function storageType(shape: number[], dtype: GgufDType): GgmlTypeName {
  if (shape.length < 2 || dtype === 'f32') return 'F32';
  if (dtype === 'q8_0' && shape[shape.length - 1] % 32 === 0) return 'Q8_0';
  return 'F16';
}

/** The model (or `opts.weights`) as a GGUF file for llama.cpp. */
export function ggufModel(model: LoadedModel, opts: GgufModelOptions = {}): GgufFile {
  const { config } = model;
  const dtype = opts.dtype ?? 'f32';
  const weights = opts.weights ?? model.weights;
  const meta = ggufArchMetadata(config, opts.name ?? 'model');
  meta.set('general.file_type', gv.u32(FILE_TYPE[dtype]));
  meta.set('general.quantization_version', gv.u32(2));
  if (model.files.tokenizerJson) {
    for (const [k, v] of ggufTokenizerMetadata(model.files, config)) meta.set(k, v);
  } else {
    for (const [k, v] of placeholderVocab(config)) meta.set(k, v);
  }

  const tensors: GgufTensor[] = [];
  if (config.rope_scaling?.rope_type === 'llama3') {
    tensors.push({
      name: 'rope_freqs.weight',
      shape: [config.head_dim / 2],
      type: 'F32',
      data: llama3RopeFactors(config),
    });
  }
  for (const [hf, t] of weights) {
    const name = ggufTensorName(hf);
    if (!name) throw new UserError(`tensor ${hf} has no GGUF name`);
    const heads = ropePermuteHeads(config, hf);
    const rows = t.shape[0];
    const cols = t.shape.length > 1 ? t.shape[1] : 1;
    tensors.push({
      name,
      shape: t.shape,
      type: storageType(t.shape, dtype),
      data: heads ? () => permuteRowsForRope(t.data, rows, cols, heads) : t.data,
    });
  }
  return writeGguf(meta, tensors);
}
