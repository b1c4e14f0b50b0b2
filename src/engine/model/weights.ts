// Model loading: HF tensor names and shapes for a config, and a loader that reads config.json, the
// safetensors weights (single file or sharded with model.safetensors.index.json), the tokenizer files and
// generation_config.json from any FileSource. Every expected tensor is checked for presence and shape, and
// weights are read tensor by tensor (byte ranges), never a whole file into one buffer.

import { UserError } from '../errors';
import { headerLength, parseHeader, readFloat32, type StDType, type StEntry } from '../io/safetensors';
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
  /** float32 values (its own buffer, or a view into an in-memory source's file). */
  data: Float32Array;
}

export interface ModelFiles {
  tokenizerJson?: string;
  tokenizerConfig?: unknown;
  /** chat_template.jinja when present (it wins, as in transformers), else tokenizer_config's template. */
  chatTemplate?: string;
  generationConfig?: unknown;
}

export interface LoadedModel {
  config: ModelConfig;
  /** Exactly the tensors of expectedWeights(config), converted to float32. */
  weights: Map<string, LoadedTensor>;
  files: ModelFiles;
}

/**
 * A model whose weights stay in their files: config, tokenizer files and every tensor's place, checked.
 * Tensors are read one at a time (a byte range each, converted to float32 on its own), so a file of any
 * size loads and a BF16 checkpoint is never held as BF16 and float32 at once. Whoever reads keeps what it
 * needs: the device upload consumes them one by one; exports read them again.
 */
export interface ModelReader {
  config: ModelConfig;
  files: ModelFiles;
  label: string;
  /** Every expected tensor's shape, in model order. */
  shapes: Map<string, number[]>;
  /** Stored dtype of each tensor (F32, F16, BF16, F64). */
  dtypes: Map<string, StDType>;
  /** Bytes of all weights files together. */
  fileBytes: number;
  /** Tensors in model order (or `names`' order), one at a time. */
  tensors(names?: Iterable<string>, onProgress?: LoadProgress): AsyncGenerator<[string, LoadedTensor]>;
  /** Every weight as float32, read again from the source. */
  load(onProgress?: LoadProgress): Promise<Map<string, LoadedTensor>>;
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

/** One weights file: its header's entries, read alone where the source reads ranges. */
interface WeightFile {
  name: string;
  size: number;
  entries: Map<string, StEntry>;
  /** Read by byte ranges; else the whole file is read once per pass. */
  ranged: boolean;
  /** Whole-file bytes, for sources that cannot read ranges (read again per pass, then dropped). */
  whole?: Uint8Array;
}

async function readHeader(source: FileSource, file: string): Promise<WeightFile> {
  const size = source.range ? await source.size?.(file) : undefined;
  if (!source.range || size === undefined) {
    const whole = await source.bytes(file);
    return {
      name: file,
      size: whole.length,
      entries: parseHeader(whole, file).entries,
      ranged: false,
      whole,
    };
  }
  const n = headerLength(await source.range(file, 0, Math.min(8, size)), file, size);
  const head = await source.range(file, 0, 8 + n);
  return { name: file, size, entries: parseHeader(head, file, size).entries, ranged: true };
}

/** Checks that each of `names` is in `file` with the shape config.json implies. */
function checkTensors(file: WeightFile, names: string[], expected: Map<string, number[]>): void {
  for (const name of names) {
    const e = file.entries.get(name);
    if (!e) throw new UserError(`missing tensor '${name}'`, file.name);
    const want = expected.get(name)!;
    if (e.shape.length !== want.length || e.shape.some((d, i) => d !== want[i])) {
      throw new UserError(
        `tensor '${name}' has shape [${e.shape.join(', ')}], expected [${want.join(', ')}] from config.json`,
        file.name,
      );
    }
    if (!['F32', 'F16', 'BF16', 'F64'].includes(e.dtype)) {
      throw new UserError(
        `'${name}' has dtype ${e.dtype}; expected a float tensor (F32, F16, BF16)`,
        file.name,
      );
    }
  }
}

/** Reads config, tokenizer files and every weights file's header; no tensor data yet. */
export async function openModel(source: FileSource, onProgress?: LoadProgress): Promise<ModelReader> {
  if (!(await source.has('config.json'))) {
    throw new UserError('no config.json: not a model folder', source.label);
  }
  const config = parseConfig(await readJson(source, 'config.json'));
  const expected = expectedWeights(config);
  const byFile = await weightFiles(source, expected);

  const files: ModelFiles = {};
  files.tokenizerJson = await optionalText(source, 'tokenizer.json');
  if (await source.has('tokenizer_config.json'))
    files.tokenizerConfig = await readJson(source, 'tokenizer_config.json');
  files.chatTemplate =
    (await optionalText(source, 'chat_template.jinja')) ?? templateFrom(files.tokenizerConfig);
  if (await source.has('generation_config.json')) {
    files.generationConfig = await readJson(source, 'generation_config.json');
  }
  for (const k of Object.keys(files) as (keyof typeof files)[]) if (files[k] === undefined) delete files[k];

  // Downloads into storage first (progress over all weight files), where the source needs that.
  const names = [...byFile.keys()];
  if (source.prepare) {
    const sizes = await Promise.all(names.map(async (f) => (await source.size?.(f)) ?? 0));
    let done = 0;
    for (const [i, file] of names.entries()) {
      await source.prepare(file, (loaded, total) => {
        if (total > 0) sizes[i] = total;
        onProgress?.(
          done + loaded,
          sizes.reduce((a, b) => a + b, 0),
          file,
        );
      });
      done += sizes[i];
    }
  }
  const weightFileList: WeightFile[] = [];
  const fileOf = new Map<string, WeightFile>();
  const dtypes = new Map<string, StDType>();
  for (const name of names) {
    const f = await readHeader(source, name);
    checkTensors(f, byFile.get(name)!, expected);
    for (const t of byFile.get(name)!) {
      fileOf.set(t, f);
      dtypes.set(t, f.entries.get(t)!.dtype);
    }
    delete f.whole; // read again when tensors are read: only one whole file at a time
    weightFileList.push(f);
  }
  const totalBytes = weightFileList.reduce((a, f) => a + f.size, 0);

  async function* tensors(
    want: Iterable<string> = expected.keys(),
    progress?: LoadProgress,
  ): AsyncGenerator<[string, LoadedTensor]> {
    let done = 0;
    let whole: { file: string; bytes: Uint8Array } | undefined;
    for (const name of want) {
      const f = fileOf.get(name);
      if (!f) throw new Error(`no weight named '${name}'`);
      const e = f.entries.get(name)!;
      let raw: Uint8Array;
      if (f.ranged) {
        raw = await source.range!(f.name, e.begin, e.end);
      } else {
        if (whole?.file !== f.name) whole = undefined; // drop the previous file first
        whole ??= { file: f.name, bytes: await source.bytes(f.name) };
        raw = whole.bytes.subarray(e.begin, e.end);
      }
      const data = readFloat32(raw, { ...e, begin: 0, end: raw.length }, f.name, name);
      done += e.end - e.begin;
      progress?.(done, totalBytes, f.name);
      yield [name, { shape: e.shape, data }];
    }
    if (progress && done < totalBytes) progress(totalBytes, totalBytes, weightFileList.at(-1)?.name ?? '');
  }

  return {
    config,
    files,
    label: source.label,
    shapes: expected,
    dtypes,
    fileBytes: totalBytes,
    tensors,
    load: async (progress) => {
      const out = new Map<string, LoadedTensor>();
      for await (const [name, t] of tensors(expected.keys(), progress)) out.set(name, t);
      return out;
    },
  };
}

/** Loads a model folder or repo: config, all weights as float32 (read tensor by tensor), tokenizer files. */
export async function loadModel(source: FileSource, onProgress?: LoadProgress): Promise<LoadedModel> {
  const reader = await openModel(source, onProgress);
  const weights = await reader.load(source.prepare ? undefined : onProgress);
  return { config: reader.config, weights, files: reader.files };
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
