// parseConfig on the real configs of the supported families, transformers' defaults, and bad input.
import { describe, expect, it } from 'vitest';
import { UserError } from '../errors';
import { parseConfig } from './config';

const SMOLLM2_135M = {
  architectures: ['LlamaForCausalLM'],
  attention_bias: false,
  bos_token_id: 1,
  eos_token_id: 2,
  head_dim: 64,
  hidden_act: 'silu',
  hidden_size: 576,
  intermediate_size: 1536,
  max_position_embeddings: 8192,
  mlp_bias: false,
  model_type: 'llama',
  num_attention_heads: 9,
  num_hidden_layers: 30,
  num_key_value_heads: 3,
  pad_token_id: 2,
  rms_norm_eps: 1e-5,
  rope_scaling: null,
  rope_theta: 100000,
  tie_word_embeddings: true,
  torch_dtype: 'bfloat16',
  vocab_size: 49152,
};

const LLAMA_32_1B = {
  model_type: 'llama',
  hidden_size: 2048,
  intermediate_size: 8192,
  num_hidden_layers: 16,
  num_attention_heads: 32,
  num_key_value_heads: 8,
  head_dim: 64,
  max_position_embeddings: 131072,
  rms_norm_eps: 1e-5,
  rope_theta: 500000.0,
  rope_scaling: {
    factor: 32.0,
    high_freq_factor: 4.0,
    low_freq_factor: 1.0,
    original_max_position_embeddings: 8192,
    rope_type: 'llama3',
  },
  tie_word_embeddings: true,
  vocab_size: 128256,
  bos_token_id: 128000,
  eos_token_id: [128001, 128008, 128009],
  torch_dtype: 'bfloat16',
};

const QWEN25_05B = {
  model_type: 'qwen2',
  hidden_size: 896,
  intermediate_size: 4864,
  num_hidden_layers: 24,
  num_attention_heads: 14,
  num_key_value_heads: 2,
  max_position_embeddings: 32768,
  max_window_layers: 21,
  rms_norm_eps: 1e-6,
  rope_theta: 1000000.0,
  sliding_window: 32768,
  use_sliding_window: false,
  tie_word_embeddings: true,
  vocab_size: 151936,
  bos_token_id: 151643,
  eos_token_id: 151645,
  torch_dtype: 'bfloat16',
};

const QWEN3_06B = {
  model_type: 'qwen3',
  attention_bias: false,
  hidden_size: 1024,
  intermediate_size: 3072,
  num_hidden_layers: 28,
  num_attention_heads: 16,
  num_key_value_heads: 8,
  head_dim: 128,
  max_position_embeddings: 40960,
  rms_norm_eps: 1e-6,
  rope_scaling: null,
  rope_theta: 1000000,
  sliding_window: null,
  use_sliding_window: false,
  tie_word_embeddings: true,
  vocab_size: 151936,
  bos_token_id: 151643,
  eos_token_id: 151645,
  torch_dtype: 'bfloat16',
};

const err = (json: unknown) => {
  try {
    parseConfig(json);
  } catch (e) {
    expect(e).toBeInstanceOf(UserError);
    return (e as Error).message;
  }
  throw new Error('expected a UserError');
};

describe('parseConfig', () => {
  it('reads SmolLM2 (llama, GQA, tied)', () => {
    expect(parseConfig(SMOLLM2_135M)).toEqual({
      model_type: 'llama',
      hidden_size: 576,
      intermediate_size: 1536,
      num_hidden_layers: 30,
      num_attention_heads: 9,
      num_key_value_heads: 3,
      head_dim: 64,
      vocab_size: 49152,
      rms_norm_eps: 1e-5,
      rope_theta: 100000,
      rope_scaling: null,
      max_position_embeddings: 8192,
      tie_word_embeddings: true,
      attention_bias: false,
      mlp_bias: false,
      hidden_act: 'silu',
      bos_token_id: 1,
      eos_token_id: [2],
      torch_dtype: 'bfloat16',
      o_proj_bias: false,
      qk_norm: false,
    });
  });

  it('reads Llama 3.2 rope scaling, from v4 rope_scaling and v5 rope_parameters alike', () => {
    const v4 = parseConfig(LLAMA_32_1B);
    expect(v4.rope_theta).toBe(500000);
    expect(v4.rope_scaling).toEqual({
      rope_type: 'llama3',
      factor: 32,
      low_freq_factor: 1,
      high_freq_factor: 4,
      original_max_position_embeddings: 8192,
    });
    expect(v4.eos_token_id).toEqual([128001, 128008, 128009]);
    const { rope_scaling, rope_theta, torch_dtype, ...rest } = LLAMA_32_1B;
    const v5 = parseConfig({ ...rest, dtype: torch_dtype, rope_parameters: { ...rope_scaling, rope_theta } });
    expect(v5).toEqual(v4);
    const plain = parseConfig({ ...rest, rope_parameters: { rope_type: 'default', rope_theta: 1234 } });
    expect(plain.rope_scaling).toBeNull();
    expect(plain.rope_theta).toBe(1234);
    // Older files spell it "type".
    const old = parseConfig({ ...rest, rope_scaling: { type: 'linear', factor: 2 } });
    expect(old.rope_scaling).toEqual({ rope_type: 'linear', factor: 2 });
    expect(old.rope_theta).toBe(10000);
  });

  it('reads Qwen2.5 (q/k/v bias always, no o bias)', () => {
    const c = parseConfig(QWEN25_05B);
    expect(c).toMatchObject({ model_type: 'qwen2', head_dim: 64, attention_bias: true, o_proj_bias: false });
    expect(c).toMatchObject({
      qk_norm: false,
      mlp_bias: false,
      eos_token_id: [151645],
      tie_word_embeddings: true,
    });
  });

  it('reads Qwen3 (explicit head_dim, q/k norm)', () => {
    const c = parseConfig(QWEN3_06B);
    expect(c).toMatchObject({ head_dim: 128, num_key_value_heads: 8, qk_norm: true, attention_bias: false });
    expect(c.hidden_size / c.num_attention_heads).toBe(64); // head_dim is independent of hidden_size
  });

  it('fills defaults as transformers does', () => {
    const min = {
      hidden_size: 64,
      intermediate_size: 128,
      num_hidden_layers: 2,
      num_attention_heads: 4,
      vocab_size: 100,
    };
    const llama = parseConfig({ model_type: 'llama', ...min });
    expect(llama).toMatchObject({
      num_key_value_heads: 4,
      head_dim: 16,
      rms_norm_eps: 1e-6,
      rope_theta: 10000,
      rope_scaling: null,
      max_position_embeddings: 2048,
      tie_word_embeddings: false,
      attention_bias: false,
      mlp_bias: false,
      bos_token_id: 1,
      eos_token_id: [2],
      torch_dtype: null,
    });
    const qwen2 = parseConfig({ model_type: 'qwen2', ...min });
    expect(qwen2).toMatchObject({ max_position_embeddings: 32768, bos_token_id: null, eos_token_id: [] });
    expect(parseConfig({ model_type: 'qwen3', ...min }).head_dim).toBe(128);
    const biased = parseConfig({ model_type: 'llama', ...min, attention_bias: true, mlp_bias: true });
    expect(biased).toMatchObject({ attention_bias: true, o_proj_bias: true, mlp_bias: true });
    expect(
      parseConfig({ model_type: 'llama', ...min, eos_token_id: null, bos_token_id: null }),
    ).toMatchObject({
      bos_token_id: null,
      eos_token_id: [],
    });
  });

  it('rejects unsupported architectures and RoPE types', () => {
    expect(err({ ...SMOLLM2_135M, model_type: 'gpt2' })).toBe(
      "config.json: unsupported architecture 'gpt2' (model_type); supported: llama, qwen2, qwen3",
    );
    expect(err({ ...SMOLLM2_135M, model_type: undefined })).toBe("config.json: missing 'model_type'");
    expect(err({ ...SMOLLM2_135M, rope_scaling: { rope_type: 'yarn', factor: 4 } })).toMatch(
      /unsupported RoPE scaling type "yarn" in 'rope_scaling'; supported: default, linear, llama3/,
    );
    expect(err({ ...SMOLLM2_135M, rope_scaling: { type: 'dynamic', factor: 2 } })).toMatch(/"dynamic"/);
    expect(err({ ...SMOLLM2_135M, hidden_act: 'gelu' })).toMatch(/unsupported hidden_act "gelu"/);
    expect(err({ ...QWEN25_05B, use_sliding_window: true })).toMatch(/sliding-window attention/);
  });

  it('names missing or invalid keys', () => {
    expect(err({ ...SMOLLM2_135M, hidden_size: undefined })).toBe(
      "config.json: missing required key 'hidden_size'",
    );
    expect(err({ ...SMOLLM2_135M, vocab_size: '49152' })).toBe(
      'config.json: \'vocab_size\' must be an integer >= 1, got "49152"',
    );
    expect(err({ ...SMOLLM2_135M, num_hidden_layers: 0 })).toMatch(
      /'num_hidden_layers' must be an integer >= 1/,
    );
    expect(err({ ...SMOLLM2_135M, rms_norm_eps: -1 })).toMatch(/'rms_norm_eps' must be a positive number/);
    expect(err({ ...SMOLLM2_135M, tie_word_embeddings: 'yes' })).toMatch(
      /'tie_word_embeddings' must be true or false/,
    );
    expect(err({ ...SMOLLM2_135M, eos_token_id: ['</s>'] })).toMatch(/'eos_token_id' must be a token id/);
    expect(
      err({ ...LLAMA_32_1B, rope_scaling: { ...LLAMA_32_1B.rope_scaling, low_freq_factor: undefined } }),
    ).toBe("config.json: 'rope_scaling.low_freq_factor' must be a positive number, got undefined");
    expect(
      err({ ...LLAMA_32_1B, rope_scaling: { ...LLAMA_32_1B.rope_scaling, high_freq_factor: 1 } }),
    ).toMatch(/high_freq_factor \(1\) must be greater than low_freq_factor \(1\)/);
    expect(err([1, 2])).toBe('config.json: not a JSON object');
  });

  it('checks that heads divide evenly', () => {
    expect(err({ ...SMOLLM2_135M, num_key_value_heads: 2 })).toBe(
      'config.json: num_attention_heads (9) is not a multiple of num_key_value_heads (2)',
    );
    const { head_dim: _, ...noHeadDim } = SMOLLM2_135M;
    expect(err({ ...noHeadDim, hidden_size: 580 })).toMatch(
      /hidden_size \(580\) is not a multiple of num_attention_heads \(9\)/,
    );
    expect(err({ ...SMOLLM2_135M, head_dim: 63 })).toMatch(/head_dim \(63\) must be even/);
  });

  it('puts a custom location in messages', () => {
    expect(() => parseConfig({}, 'org/repo/config.json')).toThrow(
      "org/repo/config.json: missing 'model_type'",
    );
  });
});
