// Model hyperparameters from a Hugging Face config.json. Keys stay snake_case as in the file; every default
// is filled here, per model_type, as transformers' LlamaConfig / Qwen2Config / Qwen3Config fill them.
// RoPE settings are read from the v4 keys (rope_theta, rope_scaling) or transformers v5's rope_parameters.

import { UserError } from '../errors';

export const SUPPORTED_MODEL_TYPES = ['llama', 'qwen2', 'qwen3'] as const;
export type ModelType = (typeof SUPPORTED_MODEL_TYPES)[number];

export type RopeScaling =
  | {
      rope_type: 'llama3';
      factor: number;
      low_freq_factor: number;
      high_freq_factor: number;
      original_max_position_embeddings: number;
    }
  | { rope_type: 'linear'; factor: number };

export interface ModelConfig {
  model_type: ModelType;
  hidden_size: number;
  intermediate_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  /** Default: num_attention_heads (no GQA). */
  num_key_value_heads: number;
  /** Default: hidden_size / num_attention_heads (qwen3: 128, as transformers). */
  head_dim: number;
  vocab_size: number;
  rms_norm_eps: number;
  /** Default 10000. */
  rope_theta: number;
  /** null: plain RoPE ("default" type). */
  rope_scaling: RopeScaling | null;
  max_position_embeddings: number;
  /** lm_head shares embed_tokens' weight. Default false for all three model types (as transformers). */
  tie_word_embeddings: boolean;
  /** q/k/v projections have a bias: qwen2 always; llama and qwen3 per the flag (default false). */
  attention_bias: boolean;
  /** MLP projections have a bias (llama's flag; default false). */
  mlp_bias: boolean;
  /** Always 'silu' ('swish' is the same function). */
  hidden_act: 'silu';
  bos_token_id: number | null;
  /** Normalised to a list (config.json has a number, a list or null). */
  eos_token_id: number[];
  /** Storage dtype of the checkpoint ("bfloat16", …; v5 calls it `dtype`), null when absent. */
  torch_dtype: string | null;

  // Derived from model_type, so model code needs no per-architecture switches.
  /** o_proj has a bias: llama and qwen3 when attention_bias; never qwen2. */
  o_proj_bias: boolean;
  /** Per-head RMSNorm on q and k before RoPE (qwen3). */
  qk_norm: boolean;
}

interface Defaults {
  max_position_embeddings: number;
  bos_token_id: number | null;
  eos_token_id: number | null;
}

const DEFAULTS: Record<ModelType, Defaults> = {
  llama: { max_position_embeddings: 2048, bos_token_id: 1, eos_token_id: 2 },
  qwen2: { max_position_embeddings: 32768, bos_token_id: null, eos_token_id: null },
  qwen3: { max_position_embeddings: 32768, bos_token_id: null, eos_token_id: null },
};

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

export function parseConfig(json: unknown, where = 'config.json'): ModelConfig {
  if (!isObject(json)) throw new UserError('not a JSON object', where);
  const c = json;
  const fail = (msg: string): never => {
    throw new UserError(msg, where);
  };
  const has = (k: string) => c[k] !== undefined && c[k] !== null;
  const int = (k: string, dflt?: number, min = 1): number => {
    if (!has(k)) return dflt ?? fail(`missing required key '${k}'`);
    const v = c[k];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) {
      fail(`'${k}' must be an integer >= ${min}, got ${JSON.stringify(v)}`);
    }
    return v as number;
  };
  const num = (k: string, dflt: number): number => {
    if (!has(k)) return dflt;
    const v = c[k];
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) fail(`'${k}' must be a positive number`);
    return v as number;
  };
  const bool = (k: string, dflt: boolean): boolean => {
    if (!has(k)) return dflt;
    if (typeof c[k] !== 'boolean') fail(`'${k}' must be true or false, got ${JSON.stringify(c[k])}`);
    return c[k] as boolean;
  };

  const mt = c.model_type;
  if (typeof mt !== 'string') fail("missing 'model_type'");
  if (!(SUPPORTED_MODEL_TYPES as readonly string[]).includes(mt as string)) {
    fail(`unsupported architecture '${mt}' (model_type); supported: ${SUPPORTED_MODEL_TYPES.join(', ')}`);
  }
  const model_type = mt as ModelType;
  const d = DEFAULTS[model_type];

  const hidden_size = int('hidden_size');
  const num_attention_heads = int('num_attention_heads');
  const num_key_value_heads = int('num_key_value_heads', num_attention_heads);
  if (num_attention_heads % num_key_value_heads !== 0) {
    fail(
      `num_attention_heads (${num_attention_heads}) is not a multiple of num_key_value_heads (${num_key_value_heads})`,
    );
  }
  if (!has('head_dim') && model_type !== 'qwen3' && hidden_size % num_attention_heads !== 0) {
    fail(`hidden_size (${hidden_size}) is not a multiple of num_attention_heads (${num_attention_heads})`);
  }
  const head_dim = int('head_dim', model_type === 'qwen3' ? 128 : hidden_size / num_attention_heads);
  if (head_dim % 2 !== 0) fail(`head_dim (${head_dim}) must be even for rotary embeddings`);

  const act = c.hidden_act ?? 'silu';
  if (act !== 'silu' && act !== 'swish')
    fail(`unsupported hidden_act ${JSON.stringify(act)}; supported: silu`);
  if (bool('use_sliding_window', false)) {
    fail('sliding-window attention (use_sliding_window: true) is not supported');
  }

  const attention_bias = model_type === 'qwen2' ? true : bool('attention_bias', false);
  const { rope_theta, rope_scaling } = parseRope(c, where);
  const torch_dtype = c.torch_dtype ?? c.dtype ?? null;

  return {
    model_type,
    hidden_size,
    intermediate_size: int('intermediate_size'),
    num_hidden_layers: int('num_hidden_layers'),
    num_attention_heads,
    num_key_value_heads,
    head_dim,
    vocab_size: int('vocab_size'),
    rms_norm_eps: num('rms_norm_eps', 1e-6),
    rope_theta,
    rope_scaling,
    max_position_embeddings: int('max_position_embeddings', d.max_position_embeddings),
    tie_word_embeddings: bool('tie_word_embeddings', false),
    attention_bias,
    mlp_bias: model_type === 'llama' ? bool('mlp_bias', false) : false,
    hidden_act: 'silu',
    bos_token_id: has('bos_token_id')
      ? int('bos_token_id', undefined, 0)
      : c.bos_token_id === null
        ? null
        : d.bos_token_id,
    eos_token_id: eosList(c.eos_token_id === undefined ? d.eos_token_id : c.eos_token_id, where),
    torch_dtype: typeof torch_dtype === 'string' ? torch_dtype : null,
    o_proj_bias: model_type !== 'qwen2' && attention_bias,
    qk_norm: model_type === 'qwen3',
  };
}

function eosList(v: unknown, where: string): number[] {
  const list = v === null || v === undefined ? [] : Array.isArray(v) ? v : [v];
  for (const id of list) {
    if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 0) {
      throw new UserError(
        `'eos_token_id' must be a token id or a list of them, got ${JSON.stringify(v)}`,
        where,
      );
    }
  }
  return [...new Set(list as number[])];
}

/**
 * rope_theta and scaling. transformers v5 writes `rope_parameters: {rope_type, rope_theta, factor, …}`
 * (possibly keyed by layer type); v4 writes top-level `rope_theta` and `rope_scaling: {rope_type|type, …}`.
 */
function parseRope(
  c: Record<string, unknown>,
  where: string,
): Pick<ModelConfig, 'rope_theta' | 'rope_scaling'> {
  let params: unknown = c.rope_parameters;
  let key = 'rope_parameters';
  if (isObject(params) && isObject(params.full_attention)) {
    params = params.full_attention;
    key = 'rope_parameters.full_attention';
  }
  if (params === undefined || params === null) {
    params = c.rope_scaling;
    key = 'rope_scaling';
  }
  const fail = (msg: string): never => {
    throw new UserError(msg, where);
  };
  if (params !== undefined && params !== null && !isObject(params))
    fail(`'${key}' must be an object or null`);
  const p = (params ?? {}) as Record<string, unknown>;

  const thetaRaw = p.rope_theta ?? c.rope_theta ?? 10000;
  if (typeof thetaRaw !== 'number' || !Number.isFinite(thetaRaw) || thetaRaw <= 1) {
    fail(`'rope_theta' must be a number > 1, got ${JSON.stringify(thetaRaw)}`);
  }
  const rope_theta = thetaRaw as number;

  const type = p.rope_type ?? p.type ?? 'default';
  const positive = (k: string): number => {
    const v = p[k];
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) {
      fail(`'${key}.${k}' must be a positive number, got ${JSON.stringify(v)}`);
    }
    return v as number;
  };
  if (type === 'default') return { rope_theta, rope_scaling: null };
  if (type === 'linear')
    return { rope_theta, rope_scaling: { rope_type: 'linear', factor: positive('factor') } };
  if (type === 'llama3') {
    const s = {
      rope_type: 'llama3' as const,
      factor: positive('factor'),
      low_freq_factor: positive('low_freq_factor'),
      high_freq_factor: positive('high_freq_factor'),
      original_max_position_embeddings: positive('original_max_position_embeddings'),
    };
    if (s.high_freq_factor <= s.low_freq_factor) {
      fail(
        `'${key}': high_freq_factor (${s.high_freq_factor}) must be greater than low_freq_factor (${s.low_freq_factor})`,
      );
    }
    return { rope_theta, rope_scaling: s };
  }
  return fail(
    `unsupported RoPE scaling type ${JSON.stringify(type)} in '${key}'; supported: default, linear, llama3`,
  );
}
