// Exports that need the base model: GGUF adapter (llama.cpp --lora), GGUF of the base or merged model
// (llama.cpp, Ollama FROM), and merged safetensors (transformers). Built by the engine's writers; returned
// as named byte chunks so the page can save them without one giant copy. Also the cluster recipe (a dataset
// with the Train settings as TRL / Axolotl files), which needs the model's type and chat template only.
import { issuesError } from '../src/data/formats';
import { UserError } from '../src/engine/errors';
import { ggufAdapter } from '../src/engine/export/gguf-adapter';
import { ggufModel } from '../src/engine/export/gguf-model';
import { mergeAdapter } from '../src/engine/export/merge';
import { modelfileForModel } from '../src/engine/export/ollama';
import { clusterRecipe } from '../src/engine/export/recipes';
import { writeSafetensors, type StWriteTensor } from '../src/engine/io/safetensors';
import type { LoadedModel } from '../src/engine/model/weights';
import { resolveTrainConfig, type TrainConfig } from '../src/engine/train/config';
import type { DataRow } from '../src/storage';
import { getModel } from './context';
import { toRows } from './data';
import { libraryAdapter } from './library';

export type ExportFormat = 'merged-safetensors' | 'gguf-adapter' | 'gguf-merged';

/** File name → its bytes as chunks (concatenate in order). */
export type ExportFiles = Record<string, Uint8Array[]>;

const text = (s: string) => [new TextEncoder().encode(s)];
const safe = (s: string) => s.replace(/[^\w.-]+/g, '_');

export async function exportModel(
  adapterId: string | null,
  format: ExportFormat,
  name: string,
): Promise<ExportFiles> {
  const m = getModel();
  const adapter = adapterId ? await libraryAdapter(adapterId) : undefined;
  const base = safe(name || m.label.split('/').pop() || 'model');
  if (format === 'gguf-adapter') {
    if (!adapter) throw new UserError('a GGUF adapter export needs an adapter');
    const f = ggufAdapter(m.model.config, adapter, { name, dtype: 'f32' });
    const file = `${base}.lora.gguf`;
    // Ollama: FROM the base (its Hub id or folder; a GGUF of it comes from "GGUF (merged)" without adapter)
    const modelfile = modelfileForModel(m.model, { from: m.label, adapter: `./${file}` });
    return { [file]: [...f.chunks()].map((c) => c.slice()), [`${base}.lora.Modelfile`]: text(modelfile) };
  }
  // The base weights are read again from the model's files: no host copy is kept after the upload.
  const loaded: LoadedModel = { config: m.model.config, files: m.model.files, weights: await m.model.load() };
  const weights = adapter ? mergeAdapter(loaded, adapter) : loaded.weights;
  if (format === 'gguf-merged') {
    const f = ggufModel(loaded, { weights, dtype: 'f16', name });
    const stem = `${base}${adapter ? '.merged' : ''}.f16`;
    const modelfile = modelfileForModel(m.model, { from: `./${stem}.gguf` });
    return {
      [`${stem}.gguf`]: [...f.chunks()].map((c) => c.slice()),
      [`${stem}.Modelfile`]: text(modelfile),
    };
  }
  // merged safetensors in the checkpoint's storage precision (bf16 / f16 when it was stored so)
  const dtype: StWriteTensor['dtype'] =
    m.model.config.torch_dtype === 'bfloat16'
      ? 'BF16'
      : m.model.config.torch_dtype === 'float16'
        ? 'F16'
        : 'F32';
  const tensors: Record<string, StWriteTensor> = {};
  for (const [k, w] of weights) tensors[k] = { dtype, shape: w.shape, data: w.data };
  const enc = (o: unknown) => [new TextEncoder().encode(JSON.stringify(o, null, 2) + '\n')];
  const files: ExportFiles = {
    'model.safetensors': [writeSafetensors(tensors, { format: 'pt' })],
  };
  if (m.configJson) files['config.json'] = enc(m.configJson);
  if (m.model.files.tokenizerJson)
    files['tokenizer.json'] = [new TextEncoder().encode(m.model.files.tokenizerJson)];
  if (m.model.files.tokenizerConfig) files['tokenizer_config.json'] = enc(m.model.files.tokenizerConfig);
  if (m.model.files.generationConfig) files['generation_config.json'] = enc(m.model.files.generationConfig);
  return files;
}

export interface RecipeRequest {
  /** The dataset's rows as stored, and its name (for messages about bad rows). */
  rows: DataRow[];
  datasetName: string;
  config: Partial<TrainConfig>;
  /** Written as the scripts' base model: a Hub repo id, or the model's folder name. */
  baseModel: string;
}

/** The cluster bundle's files (file name → text) for a dataset and Train settings on the loaded model. */
export function exportRecipe(req: RecipeRequest): Record<string, string> {
  const m = getModel();
  const { rows, issues } = toRows(req.rows, req.datasetName, m.model.config.vocab_size);
  if (issues.length) throw issuesError(issues);
  if (rows.length === 0) throw new UserError(`dataset "${req.datasetName}" has no rows`);
  return clusterRecipe({
    baseModel: req.baseModel,
    train: resolveTrainConfig(req.config),
    rows,
    modelType: m.model.config.model_type,
    chatTemplate: m.template,
    templateKwargs: m.templateKwargs,
  });
}
