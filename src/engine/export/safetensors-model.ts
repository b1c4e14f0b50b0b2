// A base or merged model as a Hugging Face model folder, as transformers' save_pretrained writes it:
// config.json, model.safetensors (or model-0000i-of-0000n.safetensors shards with
// model.safetensors.index.json {metadata: {total_size}, weight_map} once over the shard size), the tokenizer
// files and generation_config.json. Files are produced one at a time, so a shard is the most held in memory.

import { writeSafetensors, DTYPE_SIZE, type StWriteTensor } from '../io/safetensors';
import type { ModelConfig } from '../model/config';
import type { LoadedModel, LoadedTensor } from '../model/weights';
import { lazyFile, type OutputFile } from './output';

export type HfDType = 'F32' | 'F16' | 'BF16';

export interface HfModelOptions {
  /** Weights to write instead of model.weights (e.g. mergeAdapter's result). */
  weights?: Map<string, LoadedTensor>;
  /** Storage dtype of every tensor. Default F32. */
  dtype?: HfDType;
  /** The source's config.json object, written back with only torch_dtype changed; rebuilt from the parsed config when absent. */
  rawConfig?: Record<string, unknown>;
  /** Largest shard in bytes (transformers counts GB as 10^9). Default 2 GB. */
  maxShardBytes?: number;
}

const TORCH_DTYPE: Record<HfDType, string> = { F32: 'float32', F16: 'float16', BF16: 'bfloat16' };
const json = (v: unknown) => JSON.stringify(v, null, 2) + '\n';

/** config.json keys from a parsed config: the derived fields dropped, rope scaling in the v4 keys. */
export function configJsonFrom(c: ModelConfig): Record<string, unknown> {
  const { o_proj_bias: _o, qk_norm: _q, ...rest } = c;
  const out: Record<string, unknown> = { ...rest };
  out.eos_token_id = c.eos_token_id.length === 1 ? c.eos_token_id[0] : c.eos_token_id;
  if (c.model_type === 'qwen2') delete out.attention_bias;
  if (c.model_type !== 'llama') delete out.mlp_bias;
  out.architectures = [
    { llama: 'LlamaForCausalLM', qwen2: 'Qwen2ForCausalLM', qwen3: 'Qwen3ForCausalLM' }[c.model_type],
  ];
  return out;
}

/** Splits tensors (in model order) into shards of at most maxBytes, a new shard when the next would overflow. */
function shard(names: string[], size: (n: string) => number, maxBytes: number): string[][] {
  const shards: string[][] = [];
  let cur: string[] = [];
  let bytes = 0;
  for (const n of names) {
    const s = size(n);
    if (cur.length && bytes + s > maxBytes) {
      shards.push(cur);
      cur = [];
      bytes = 0;
    }
    cur.push(n);
    bytes += s;
  }
  if (cur.length) shards.push(cur);
  return shards;
}

/** The files of an HF model folder for `model` (or its merged weights). */
export function hfModelFiles(model: LoadedModel, opts: HfModelOptions = {}): OutputFile[] {
  const dtype = opts.dtype ?? 'F32';
  const weights = opts.weights ?? model.weights;
  const maxBytes = opts.maxShardBytes ?? 2e9;
  const config = { ...(opts.rawConfig ?? configJsonFrom(model.config)) };
  delete config.dtype;
  config.torch_dtype = TORCH_DTYPE[dtype];

  const names = [...weights.keys()];
  const tensorBytes = (n: string) => weights.get(n)!.data.length * DTYPE_SIZE[dtype];
  const shards = shard(names, tensorBytes, maxBytes);
  const encode = (group: string[]) => {
    const tensors: Record<string, StWriteTensor> = {};
    for (const n of group) tensors[n] = { dtype, shape: weights.get(n)!.shape, data: weights.get(n)!.data };
    return writeSafetensors(tensors, { format: 'pt' });
  };

  const files: OutputFile[] = [lazyFile('config.json', () => json(config))];
  if (shards.length <= 1) {
    files.push(lazyFile('model.safetensors', () => encode(shards[0] ?? [])));
  } else {
    const total = names.reduce((a, n) => a + tensorBytes(n), 0);
    const pad = (i: number) => String(i).padStart(5, '0');
    const weightMap: Record<string, string> = {};
    shards.forEach((group, i) => {
      const path = `model-${pad(i + 1)}-of-${pad(shards.length)}.safetensors`;
      for (const n of group) weightMap[n] = path;
      files.push(lazyFile(path, () => encode(group)));
    });
    const sorted = Object.fromEntries(
      Object.entries(weightMap).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
    );
    files.push(
      lazyFile('model.safetensors.index.json', () =>
        json({ metadata: { total_size: total }, weight_map: sorted }),
      ),
    );
  }
  const f = model.files;
  if (f.tokenizerJson !== undefined) files.push(lazyFile('tokenizer.json', () => f.tokenizerJson!));
  const tc = (
    typeof f.tokenizerConfig === 'object' && f.tokenizerConfig !== null ? f.tokenizerConfig : undefined
  ) as Record<string, unknown> | undefined;
  if (tc) files.push(lazyFile('tokenizer_config.json', () => json(tc)));
  // A template that tokenizer_config.json does not hold came from chat_template.jinja: keep it there.
  if (f.chatTemplate !== undefined && tc?.chat_template !== f.chatTemplate) {
    files.push(lazyFile('chat_template.jinja', () => f.chatTemplate!));
  }
  if (f.generationConfig !== undefined) {
    files.push(lazyFile('generation_config.json', () => json(f.generationConfig)));
  }
  return files;
}
