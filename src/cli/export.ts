// `export`: an adapter (or a base model) in the format another tool needs: a PEFT folder, a merged HF model
// folder, GGUF files for llama.cpp / Ollama with a Modelfile beside them, or a recipe folder (dataset + TRL
// script + Axolotl config) to run the same training on a GPU machine. Every check (formats, paths,
// name clashes without --force) runs before the model is loaded; files are written to temporary names and
// renamed into place only when all of them are complete, so nothing is ever half-written.
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { parseDatasetStrict } from '../data/formats';
import { UserError } from '../engine/errors';
import { ggufAdapter } from '../engine/export/gguf-adapter';
import { ggufModel, type GgufDType } from '../engine/export/gguf-model';
import { mergeAdapter } from '../engine/export/merge';
import { modelfileForModel } from '../engine/export/ollama';
import { ggufOutput, lazyFile, type OutputFile } from '../engine/export/output';
import { clusterRecipe, RECIPE_FILES } from '../engine/export/recipes';
import { hfModelFiles, type HfDType } from '../engine/export/safetensors-model';
import { readAdapter, writeAdapter } from '../engine/io/peft';
import { dirSource } from '../engine/io/source_node';
import { pickChatTemplate } from '../engine/text/template';
import { resolveTrainConfig, type TrainConfig } from '../engine/train/config';
import { modelSource, openModel } from './context';
import { flagOf } from './errors';
import { checkWritableDir, writeFilesAtomic } from './files';

export const EXPORT_FORMATS = ['peft', 'merged', 'gguf-adapter', 'gguf-merged', 'recipe'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export interface ExportArgs {
  model: string;
  adapter?: string;
  format: ExportFormat;
  out: string;
  /** Storage type: merged f32|f16|bf16, gguf-merged f32|f16|q8_0, gguf-adapter f32|f16. */
  dtype?: string;
  /** Replace existing output files. */
  force?: boolean;
  quiet: boolean;
  /** recipe: the dataset file and the training settings to write out. */
  data?: string;
  train?: Partial<TrainConfig>;
}

const DTYPES: Record<ExportFormat, readonly string[]> = {
  peft: ['f32'],
  merged: ['f32', 'f16', 'bf16'],
  'gguf-merged': ['f32', 'f16', 'q8_0'],
  'gguf-adapter': ['f32', 'f16'],
  recipe: ['f32'],
};

/** Files a merged folder may hold; an old one we do not rewrite would shadow the new weights. */
const HF_WEIGHT_FILES = ['model.safetensors', 'model.safetensors.index.json'];

export async function exportCmd(a: ExportArgs): Promise<void> {
  if (!(EXPORT_FORMATS as readonly string[]).includes(a.format)) {
    throw new UserError(`unknown --format ${a.format}; use one of ${EXPORT_FORMATS.join(', ')}`);
  }
  if (a.format === 'recipe') return exportRecipe(a);
  if ((a.format === 'peft' || a.format === 'gguf-adapter') && !a.adapter) {
    throw new UserError(`--format ${a.format} needs --adapter DIR`);
  }
  const dtype = (a.dtype ?? 'f32').toLowerCase();
  if (!DTYPES[a.format].includes(dtype)) {
    throw new UserError(
      `--dtype ${a.dtype} is not available for --format ${a.format}; use ${DTYPES[a.format].join(', ')}`,
    );
  }
  if (a.adapter && !existsSync(a.adapter)) throw new UserError(`--adapter ${a.adapter}: no such folder`);
  const gguf = a.format.startsWith('gguf');
  const outDir = gguf ? ggufTarget(a.out) : a.out;
  checkWritableDir(outDir);
  const modelfile = gguf ? modelfilePath(a.out) : undefined;
  // Early clash check on the names known now; the full list is checked again once the files are planned.
  const known = gguf
    ? [resolve(a.out), modelfile!]
    : (a.format === 'peft'
        ? ['adapter_config.json', 'adapter_model.safetensors']
        : ['config.json', ...HF_WEIGHT_FILES]
      ).map((f) => join(a.out, f));
  refuseClashes(known, a.force);

  const model = await openModel(a.model, a.quiet);
  const adapter = a.adapter ? await readAdapter(dirSource(a.adapter), model.config) : undefined;
  const name = basename(resolve(a.adapter ?? a.model));
  let files: OutputFile[];
  switch (a.format) {
    case 'peft':
      files = Object.entries(writeAdapter(model.config, adapter!)).map(([p, b]) => lazyFile(p, () => b));
      break;
    case 'merged': {
      const rawConfig = JSON.parse(await modelSource(a.model).text('config.json')) as Record<string, unknown>;
      const weights = adapter ? mergeAdapter(model, adapter) : undefined;
      files = hfModelFiles(model, { weights, dtype: dtype.toUpperCase() as HfDType, rawConfig });
      break;
    }
    case 'gguf-merged': {
      const weights = adapter ? mergeAdapter(model, adapter) : undefined;
      const file = ggufModel(model, { weights, dtype: dtype as GgufDType, name });
      files = [ggufOutput(basename(a.out), file), modelfileOutput(a, modelfile!, `./${basename(a.out)}`)];
      break;
    }
    case 'gguf-adapter': {
      const file = ggufAdapter(model.config, adapter!, { name, dtype: dtype as 'f32' | 'f16' });
      const from = existsSync(a.model) ? resolve(a.model) : a.model;
      files = [
        ggufOutput(basename(a.out), file),
        modelfileOutput(a, modelfile!, from, `./${basename(a.out)}`),
      ];
      break;
    }
  }
  const paths = files.map((f) => join(outDir, f.path));
  refuseClashes(paths, a.force);
  // A rewritten merged folder must not keep a weights file of the other layout (single vs sharded).
  const stale =
    a.format === 'merged'
      ? HF_WEIGHT_FILES.map((f) => join(outDir, f)).filter((p) => !paths.includes(p))
      : [];
  writeOutputsAtomic(outDir, files, stale);
  if (!a.quiet) for (const p of paths) process.stderr.write(`wrote ${p}\n`);

  function modelfileOutput(args: ExportArgs, path: string, from: string, adapterPath?: string): OutputFile {
    const comments = [`Ollama Modelfile for ${basename(args.out)}: ollama create NAME -f ${basename(path)}`];
    if (adapterPath) {
      comments.push(
        'FROM may also be the base model as GGUF, made with: export --model MODEL --format gguf-merged --out base.gguf',
      );
    }
    return lazyFile(basename(path), () => modelfileForModel(model, { from, adapter: adapterPath, comments }));
  }
}

/**
 * `--format recipe`: the dataset and training settings as a folder for TRL / Axolotl on a GPU machine. Reads
 * only the model's config.json and tokenizer files (model_type, chat template), never its weights. An
 * existing non-empty folder is refused without --force; with it, bundle files the new one lacks are removed
 * (a stale chat_template.jinja would change what the script trains).
 */
async function exportRecipe(a: ExportArgs): Promise<void> {
  if (a.adapter) throw new UserError('--format recipe does not take --adapter');
  if (a.dtype) throw new UserError('--format recipe does not take --dtype');
  if (!a.data) throw new UserError('--format recipe needs --data FILE');
  if (!existsSync(a.data) || statSync(a.data).isDirectory())
    throw new UserError(`--data ${a.data}: no such file`);
  const train = resolveTrainConfig(a.train ?? {}, flagOf);
  checkWritableDir(a.out);
  if (existsSync(a.out) && readdirSync(a.out).length > 0 && !a.force)
    throw new UserError(`--out ${a.out} is not empty; use --force to write the recipe into it`);
  const source = modelSource(a.model);
  const config = jsonOf(await source.text('config.json'), 'config.json') as {
    model_type?: unknown;
    vocab_size?: unknown;
  };
  if (typeof config.model_type !== 'string')
    throw new UserError('config.json has no model_type', 'config.json');
  const optional = async (f: string) => ((await source.has(f)) ? source.text(f) : undefined);
  const tokenizerConfig = await optional('tokenizer_config.json');
  const chatTemplate = pickChatTemplate(
    tokenizerConfig === undefined ? undefined : jsonOf(tokenizerConfig, 'tokenizer_config.json'),
    await optional('chat_template.jinja'),
  );
  const rows = parseDatasetStrict(readFileSync(a.data, 'utf8'), basename(a.data), {
    vocabSize: typeof config.vocab_size === 'number' ? config.vocab_size : undefined,
  });
  const files = clusterRecipe({
    baseModel: existsSync(a.model) ? resolve(a.model) : a.model,
    train,
    rows,
    modelType: config.model_type,
    chatTemplate,
  });
  writeFilesAtomic(a.out, files);
  for (const f of RECIPE_FILES) if (!(f in files)) rmSync(join(a.out, f), { force: true });
  if (!a.quiet) for (const f of Object.keys(files)) process.stderr.write(`wrote ${join(a.out, f)}\n`);
}

function jsonOf(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new UserError(`not valid JSON: ${(e as Error).message}`, file);
  }
}

/** The folder of a GGUF output path; the path must name a file. */
function ggufTarget(out: string): string {
  if (existsSync(out) && statSync(out).isDirectory()) {
    throw new UserError(
      `--out ${out} is a folder; give the GGUF file's path, e.g. ${join(out, 'model.gguf')}`,
    );
  }
  return dirname(out);
}

/** The Modelfile beside a GGUF: model.gguf → model.Modelfile. */
function modelfilePath(out: string): string {
  const abs = isAbsolute(out) ? out : resolve(out);
  return join(dirname(abs), `${basename(abs).replace(/\.gguf$/i, '')}.Modelfile`);
}

function refuseClashes(paths: string[], force: boolean | undefined): void {
  for (const p of paths) {
    if (!existsSync(p)) continue;
    if (statSync(p).isDirectory()) throw new UserError(`${p} exists and is a folder`);
    if (!force) throw new UserError(`${p} already exists; use --force to replace it`);
  }
}

/** Writes every file under a temporary name, then renames all into place; on failure removes the temporaries. */
export function writeOutputsAtomic(dir: string, files: OutputFile[], stale: string[]): void {
  mkdirSync(dir, { recursive: true });
  const done: [string, string][] = [];
  let current: string | undefined;
  try {
    for (const f of files) {
      const final = join(dir, f.path);
      mkdirSync(dirname(final), { recursive: true });
      current = `${final}.tmp-${process.pid}`;
      const fd = openSync(current, 'w');
      try {
        for (const chunk of f.chunks()) {
          const buf = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
          for (let o = 0; o < buf.length;) o += writeSync(fd, buf, o, buf.length - o);
        }
      } finally {
        closeSync(fd);
      }
      done.push([current, final]);
      current = undefined;
    }
    for (const [t, final] of done) renameSync(t, final);
    for (const p of stale) rmSync(p, { force: true });
  } catch (e) {
    for (const [t] of done) rmSync(t, { force: true });
    if (current) rmSync(current, { force: true });
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOSPC') throw new UserError(`disk full while writing to ${dir}`);
    if (code === 'EACCES' || code === 'EROFS') throw new UserError(`cannot write to ${dir} (${code})`);
    throw e;
  }
}
