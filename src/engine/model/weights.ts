// Model loading: HF tensor names and shapes for a config, and a loader that reads config.json, the
// safetensors weights (single file or sharded with model.safetensors.index.json), the tokenizer files and
// generation_config.json from any FileSource. Every expected tensor is checked for presence and shape.

import { UserError } from '../errors';
import { parseHeader, readFloat32, type StEntry } from '../io/safetensors';
import { checkRelativePath, type FileSource } from '../io/source';
import { parseConfig, type ModelConfig } from './config';

/** HF tensor name -> shape ([out, in] for projections), in model order. */
export function expectedWeights(cfg: ModelConfig): Map<string, number[]> {
  const h = cfg.hidden_size;
  const q = cfg.num_attention_heads * cfg.head_dim;
  const kv = cfg.num_key_value_heads * cfg.head_dim;
  const m = cfg.intermediate_size;
  const w = new Map<string, number[]>([['model.embed_tokens.weight', [cfg.vocab_size, h]]]);
  for (let i = 0; i < cfg.num_hidden_layers; i++) {
    const p = `model.layers.${i}.`;
    w.set(`${p}input_layernorm.weight`, [h]);
    const proj: [string, number, number, boolean][] = [
      ['q_proj', q, h, cfg.attention_bias],
      ['k_proj', kv, h, cfg.attention_bias],
      ['v_proj', kv, h, cfg.attention_bias],
      ['o_proj', h, q, cfg.o_proj_bias],
    ];
    for (const [name, out, inp, bias] of proj) {
      w.set(`${p}self_attn.${name}.weight`, [out, inp]);
      if (bias) w.set(`${p}self_attn.${name}.bias`, [out]);
    }
    if (cfg.qk_norm) {
      w.set(`${p}self_attn.q_norm.weight`, [cfg.head_dim]);
      w.set(`${p}self_attn.k_norm.weight`, [cfg.head_dim]);
    }
    w.set(`${p}post_attention_layernorm.weight`, [h]);
    for (const [name, out, inp] of [
      ['gate_proj', m, h],
      ['up_proj', m, h],
      ['down_proj', h, m],
    ] as const) {
      w.set(`${p}mlp.${name}.weight`, [out, inp]);
      if (cfg.mlp_bias) w.set(`${p}mlp.${name}.bias`, [out]);
    }
  }
  w.set('model.norm.weight', [h]);
  if (!cfg.tie_word_embeddings) w.set('lm_head.weight', [cfg.vocab_size, h]);
  return w;
}

export interface LoadedTensor {
  shape: number[];
  /** float32 values; for an F32 file this may be a view (byteOffset != 0) into the file's buffer. */
  data: Float32Array;
}

export interface LoadedModel {
  config: ModelConfig;
  /** Exactly the tensors of expectedWeights(config), converted to float32. */
  weights: Map<string, LoadedTensor>;
  files: {
    tokenizerJson?: string;
    tokenizerConfig?: unknown;
    /** chat_template.jinja when present (it wins, as in transformers), else tokenizer_config's template. */
    chatTemplate?: string;
    generationConfig?: unknown;
  };
}

/** (bytes read so far, total bytes of all weight files, 0 while unknown, file being read). */
export type LoadProgress = (loaded: number, total: number, file: string) => void;

const INDEX = 'model.safetensors.index.json';
const SINGLE = 'model.safetensors';

async function readJson(source: FileSource, path: string): Promise<unknown> {
  const text = await source.text(path);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new UserError(`not valid JSON (${(e as Error).message})`, path);
  }
}

async function optionalText(source: FileSource, path: string): Promise<string | undefined> {
  return (await source.has(path)) ? source.text(path) : undefined;
}

/** Which file holds each expected tensor: from the shard index, or the single weights file. */
async function weightFiles(
  source: FileSource,
  expected: Map<string, number[]>,
): Promise<Map<string, string[]>> {
  const byFile = new Map<string, string[]>();
  if (await source.has(SINGLE)) {
    byFile.set(SINGLE, [...expected.keys()]);
    return byFile;
  }
  if (!(await source.has(INDEX))) {
    const bin = (await source.has('pytorch_model.bin'))
      ? ' (only pytorch_model.bin, which is not supported)'
      : '';
    throw new UserError(`no ${SINGLE} or ${INDEX}${bin}: safetensors weights are needed`, source.label);
  }
  const index = await readJson(source, INDEX);
  const map = (index as { weight_map?: unknown } | null)?.weight_map;
  if (typeof map !== 'object' || map === null || Array.isArray(map)) {
    throw new UserError("missing 'weight_map' object", INDEX);
  }
  const weightMap = map as Record<string, unknown>;
  for (const name of expected.keys()) {
    const file = weightMap[name];
    if (!Object.hasOwn(weightMap, name)) throw new UserError(`missing tensor '${name}'`, INDEX);
    if (typeof file !== 'string')
      throw new UserError(`'${name}' maps to ${JSON.stringify(file)}, not a file`, INDEX);
    checkRelativePath(file, INDEX);
    if (!byFile.has(file)) byFile.set(file, []);
    byFile.get(file)!.push(name);
  }
  for (const file of byFile.keys()) {
    if (!(await source.has(file)))
      throw new UserError(`shard ${file} listed in ${INDEX} is missing`, source.label);
  }
  return byFile;
}

/** Reads one weights file and takes out `names`, checking shapes. */
function takeTensors(
  bytes: Uint8Array,
  file: string,
  names: string[],
  expected: Map<string, number[]>,
  out: Map<string, LoadedTensor>,
): void {
  const { entries } = parseHeader(bytes, file);
  const picked: [string, StEntry][] = names.map((name) => {
    const e = entries.get(name);
    if (!e) throw new UserError(`missing tensor '${name}'`, file);
    const want = expected.get(name)!;
    if (e.shape.length !== want.length || e.shape.some((d, i) => d !== want[i])) {
      throw new UserError(
        `tensor '${name}' has shape [${e.shape.join(', ')}], expected [${want.join(', ')}] from config.json`,
        file,
      );
    }
    return [name, e];
  });
  // Views into the file keep its whole buffer alive: worth it only when the file is mostly ours.
  const used = picked.reduce((a, [, e]) => a + (e.end - e.begin), 0);
  const copy = used < 0.95 * bytes.length;
  for (const [name, e] of picked) {
    let data = readFloat32(bytes, e, file, name);
    if (copy && data.buffer === bytes.buffer) data = data.slice();
    out.set(name, { shape: e.shape, data });
  }
}

/** Loads a model folder or repo: config, all weights as float32, tokenizer and generation files. */
export async function loadModel(source: FileSource, onProgress?: LoadProgress): Promise<LoadedModel> {
  if (!(await source.has('config.json'))) {
    throw new UserError('no config.json: not a model folder', source.label);
  }
  const config = parseConfig(await readJson(source, 'config.json'));
  const expected = expectedWeights(config);
  const byFile = await weightFiles(source, expected);

  const files: LoadedModel['files'] = {};
  files.tokenizerJson = await optionalText(source, 'tokenizer.json');
  if (await source.has('tokenizer_config.json'))
    files.tokenizerConfig = await readJson(source, 'tokenizer_config.json');
  files.chatTemplate =
    (await optionalText(source, 'chat_template.jinja')) ?? templateFrom(files.tokenizerConfig);
  if (await source.has('generation_config.json')) {
    files.generationConfig = await readJson(source, 'generation_config.json');
  }
  for (const k of Object.keys(files) as (keyof typeof files)[]) if (files[k] === undefined) delete files[k];

  const names = [...byFile.keys()];
  const sizes: number[] = await Promise.all(names.map(async (f) => (await source.size?.(f)) ?? 0));
  let done = 0;
  const weights = new Map<string, LoadedTensor>();
  for (let i = 0; i < names.length; i++) {
    const file = names[i];
    const total = () => sizes.reduce((a, b) => a + b, 0);
    const bytes = await source.bytes(file, (loaded, fileTotal) => {
      if (fileTotal > 0) sizes[i] = fileTotal;
      onProgress?.(done + loaded, total(), file);
    });
    sizes[i] = bytes.length;
    done += bytes.length;
    onProgress?.(done, total(), file);
    takeTensors(bytes, file, byFile.get(file)!, expected, weights);
  }
  // Model order, whatever order the files came in.
  const ordered = new Map<string, LoadedTensor>();
  for (const name of expected.keys()) ordered.set(name, weights.get(name)!);
  return { config, weights: ordered, files };
}

/** tokenizer_config's chat_template: a string, or a list of {name, template} where "default" is used. */
function templateFrom(tokenizerConfig: unknown): string | undefined {
  const t = (tokenizerConfig as { chat_template?: unknown } | undefined)?.chat_template;
  if (typeof t === 'string') return t;
  if (Array.isArray(t)) {
    const d = t.find((x) => (x as { name?: unknown })?.name === 'default') as
      { template?: unknown } | undefined;
    if (typeof d?.template === 'string') return d.template;
  }
  return undefined;
}
