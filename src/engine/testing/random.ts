// Deterministic numbers for test models, corpora and benchmarks (integer arithmetic only, so the same
// bytes come out on every engine), and the real shapes the benchmarks and estimates use.

/** mulberry32: a small seeded generator of uniforms in [0, 1) (one implementation, in src/data). */
export { seededUniform as mulberry32 } from '../../data/template';

/** config.json of HuggingFaceTB/SmolLM2-135M (the keys that matter to the engine). */
export const SMOLLM2_135M_CONFIG = {
  model_type: 'llama',
  hidden_size: 576,
  intermediate_size: 1536,
  num_hidden_layers: 30,
  num_attention_heads: 9,
  num_key_value_heads: 3,
  head_dim: 64,
  vocab_size: 49152,
  rms_norm_eps: 1e-5,
  rope_theta: 10000,
  max_position_embeddings: 8192,
  tie_word_embeddings: true,
} as const;

/** config.json of Qwen/Qwen2.5-0.5B (the keys that matter to the engine). */
export const QWEN25_05B_CONFIG = {
  model_type: 'qwen2',
  hidden_size: 896,
  intermediate_size: 4864,
  num_hidden_layers: 24,
  num_attention_heads: 14,
  num_key_value_heads: 2,
  head_dim: 64,
  vocab_size: 151936,
  rms_norm_eps: 1e-6,
  rope_theta: 1000000,
  max_position_embeddings: 32768,
  tie_word_embeddings: true,
} as const;
