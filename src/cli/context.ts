// What every CLI command needs: the model (a local folder or a Hub repo id, cached on disk), the runtime
// for --backend, and the dataset file turned into training examples.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from '../engine/errors';
import { hubSource, type FileSource } from '../engine/io/source';
import { dirSource } from '../engine/io/source_node';
import {
  loadModel,
  openModel as openReader,
  type LoadedModel,
  type ModelReader,
} from '../engine/model/weights';
import { createNodeRuntime, hasHardwareGpu } from '../engine/runtime/node_node';
import type { Runtime } from '../engine/runtime/types';
import { parseDatasetStrict, issuesError } from '../data/formats';
import { loadTokenizer, type TextTokenizer } from '../engine/text/tokenizer';
import { encodeDataset } from '../engine/text/encode';
import { defaultTemplateKwargs, pickChatTemplate } from '../engine/text/template';
import type { Example } from '../engine/train/batches';
import { cachedSource } from './cache';

export type BackendChoice = 'auto' | 'cpu' | 'wasm' | 'webgpu';

/** The studio's embedded model, pretrained on WordNet (DESIGN §11), which every command takes as `--model embedded`. */
export const EMBEDDED_MODEL_DIR = fileURLToPath(
  new URL('../../public/models/wordnet-mini/', import.meta.url),
);

export function modelSource(spec: string): FileSource {
  if (spec === 'embedded') return dirSource(EMBEDDED_MODEL_DIR);
  if (existsSync(spec)) {
    if (!statSync(spec).isDirectory())
      throw new UserError(`--model ${spec} is a file; give the model's folder`);
    return dirSource(spec);
  }
  if (!/^[\w.-]+\/[\w.-]+$/.test(spec))
    throw new UserError(`--model ${spec}: no such folder, and not a Hub repo id (owner/name)`);
  const endpoint = process.env.HF_ENDPOINT || 'https://huggingface.co';
  const hub = hubSource({ repo: spec, endpoint, token: process.env.HF_TOKEN || undefined });
  const cacheRoot =
    process.env.LORA_STUDIO_CACHE ||
    join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'lora-studio');
  return cachedSource(hub, join(cacheRoot, 'hub', encodeURIComponent(endpoint), spec));
}

function progress(quiet: boolean) {
  let last = 0;
  return (loaded: number, total: number, file: string) => {
    if (quiet || !process.stderr.isTTY || total === 0) return;
    const now = Date.now();
    if (now - last < 200 && loaded < total) return;
    last = now;
    process.stderr.write(
      `\rloading ${file}: ${((100 * loaded) / total).toFixed(0)}%   ${loaded >= total ? '\n' : ''}`,
    );
  };
}

/** The model with every weight in memory as float32 (exports, generation). */
export async function openModel(spec: string, quiet = false): Promise<LoadedModel> {
  return loadModel(modelSource(spec), progress(quiet));
}

/** The model with its weights left in their files, read tensor by tensor (training, evaluation). */
export async function openModelReader(spec: string, quiet = false): Promise<ModelReader> {
  return openReader(modelSource(spec), progress(quiet));
}

/** What the data commands need of a model: its config and tokenizer/template files. */
export type ModelMeta = Pick<LoadedModel, 'config' | 'files'>;

export async function openRuntime(backend: BackendChoice, threads?: number): Promise<Runtime> {
  if (backend === 'auto') {
    // a hardware GPU through Dawn when there is one; a software adapter (SwiftShader) is never chosen
    backend = (await hasHardwareGpu()) ? 'webgpu' : 'cpu';
  }
  return createNodeRuntime({ backend, threads });
}

export function modelTokenizer(model: ModelMeta): TextTokenizer | undefined {
  if (!model.files.tokenizerJson) return undefined;
  return loadTokenizer(model.files.tokenizerJson, model.files.tokenizerConfig);
}

/** Minimal stand-in used when a model folder has no tokenizer: only pre-tokenized rows can be used. */
function idsOnly(vocabSize: number): TextTokenizer {
  const no = (): never => {
    throw new UserError(
      'the model has no tokenizer.json: only pre-tokenized rows ({"input_ids": …}) can be used',
    );
  };
  return {
    vocabSize,
    encode: no,
    decode: no,
    tokenToId: () => undefined,
    idToToken: () => undefined,
  } as unknown as TextTokenizer;
}

export interface DataOptions {
  maxLen: number;
  trainOnPrompt: boolean;
}

export function readExamples(
  file: string,
  model: ModelMeta,
  opts: DataOptions,
): { examples: Example[]; truncated: number } {
  if (!existsSync(file)) throw new UserError(`--data ${file}: no such file`);
  const text = readFileSync(file, 'utf8');
  const rows = parseDatasetStrict(text, file.split('/').pop() ?? file, {
    vocabSize: model.config.vocab_size,
  });
  if (rows.length === 0) throw new UserError(`${file}: no rows`);
  const tokenizer = modelTokenizer(model) ?? idsOnly(model.config.vocab_size);
  const template = pickChatTemplate(model.files.tokenizerConfig, model.files.chatTemplate);
  const { examples, stats, issues } = encodeDataset(rows, {
    tokenizer,
    template,
    templateKwargs: defaultTemplateKwargs(model.config.model_type),
    maxLen: opts.maxLen,
    trainOnPrompt: opts.trainOnPrompt,
  });
  const hard = issues.filter((i) => !i.message.startsWith('nothing to train on'));
  if (hard.length) throw issuesError(hard);
  if (examples.length === 0) {
    throw new UserError(
      `${file}: no row has anything to train on (${issues[0]?.where}: ${issues[0]?.message})`,
    );
  }
  for (const i of issues) process.stderr.write(`warning: ${i.where}: ${i.message} (row skipped)\n`);
  return { examples, truncated: stats.truncated };
}
