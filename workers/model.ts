// Loading a base model in the worker from the Hub (through the IndexedDB cache), from files the user picked,
// or from the embedded models the app serves under /models/; and the facts the Model tab shows.
import type { ModelConfig } from '../src/engine/model/config';
import { UserError } from '../src/engine/errors';
import { hubSource, type FileSource } from '../src/engine/io/source';
import { openModel, type ModelReader } from '../src/engine/model/weights';
import { parseConfig } from '../src/engine/model/config';
import { loraSpecs } from '../src/engine/model/lora';
import { ALL_LINEAR } from '../src/engine/train/config';
import { loadTokenizer } from '../src/engine/text/tokenizer';
import { defaultTemplateKwargs, pickChatTemplate } from '../src/engine/text/template';
import { hubCacheKey } from '../src/storage';
import { db, setModel, type ModelState } from './context';
import { dropGenerator } from './chat';
import type { Job } from './jobs';
import { cachedSource, pickedSource, urlSource, type PickedFile } from './sources';

/** Where the app serves its embedded default model, pretrained on WordNet (public/models/wordnet-mini/). */
export const EMBEDDED_MODEL_PATH = 'models/wordnet-mini/';

export type ModelRequest =
  | { hub: { repo: string; revision?: string; endpoint: string; token?: string } }
  | { files: PickedFile[]; name: string }
  | { embedded: true };

export interface LoadProgressEvent {
  file: string;
  loaded: number;
  total: number;
}

export interface ModelFacts {
  label: string;
  kind: 'hub' | 'local' | 'embedded';
  modelType: string;
  params: number;
  layers: number;
  hidden: number;
  intermediate: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  vocab: number;
  context: number;
  tiedEmbeddings: boolean;
  storedDtype: string | null;
  /** float32 bytes of the weights as the engine holds them. */
  weightBytes: number;
  /** Largest single weight tensor (bytes): it must fit one GPU buffer binding. */
  largestTensorBytes: number;
  /** in+out of each LoRA-able module (per layer), for adapter size estimates. */
  moduleDims: Record<string, number>;
  hasTokenizer: boolean;
  chatTemplate: boolean;
  eosIds: number[];
  /** Files read from the browser cache vs downloaded; a note when caching failed. */
  cache?: { cached: number; downloaded: number; note: string | null };
  /** The parsed config, for the memory planner in the Train tab. */
  config: ModelConfig;
  /** Every weight is stored 16-bit (BF16/F16): kept as float16 on devices that can. */
  source16: boolean;
}

export function modelFacts(
  m: Pick<ModelReader, 'config' | 'files' | 'shapes'> & Partial<Pick<ModelReader, 'dtypes'>>,
  label: string,
  kind: ModelFacts['kind'],
  hasTemplate: boolean,
): ModelFacts {
  const c = m.config;
  let params = 0;
  let largest = 0;
  for (const shape of m.shapes.values()) {
    const n = shape.reduce((a, b) => a * b, 1);
    params += n;
    largest = Math.max(largest, n * 4);
  }
  const moduleDims: Record<string, number> = {};
  for (const s of loraSpecs(c, [...ALL_LINEAR])) if (s.layer === 0) moduleDims[s.module] = s.in + s.out;
  return {
    label,
    kind,
    modelType: c.model_type,
    params,
    layers: c.num_hidden_layers,
    hidden: c.hidden_size,
    intermediate: c.intermediate_size,
    heads: c.num_attention_heads,
    kvHeads: c.num_key_value_heads,
    headDim: c.head_dim,
    vocab: c.vocab_size,
    context: c.max_position_embeddings,
    tiedEmbeddings: c.tie_word_embeddings,
    storedDtype: c.torch_dtype,
    weightBytes: params * 4,
    largestTensorBytes: largest,
    moduleDims,
    hasTokenizer: m.files.tokenizerJson !== undefined,
    chatTemplate: hasTemplate,
    eosIds: c.eos_token_id,
    config: c,
    source16: !!m.dtypes && [...m.dtypes.values()].every((t) => t === 'BF16' || t === 'F16'),
  };
}

function sourceFor(req: ModelRequest, dbp: Awaited<ReturnType<typeof db>>, job: Job) {
  const signalFetch: typeof fetch = (input, init) => fetch(input, { ...init, signal: job.signal });
  if ('hub' in req) {
    const { repo, revision, endpoint, token } = req.hub;
    const inner = hubSource({
      repo: repo.trim(),
      revision,
      endpoint,
      token: token || undefined,
      fetch: signalFetch,
    });
    const cached = cachedSource(inner, dbp, hubCacheKey(endpoint, repo.trim(), revision));
    return { source: cached as FileSource, cached, label: repo.trim(), kind: 'hub' as const };
  }
  if ('files' in req) {
    if (req.files.length === 0) throw new UserError('the chosen folder is empty');
    return { source: pickedSource(req.files, req.name), label: req.name, kind: 'local' as const };
  }
  const base = new URL(`${import.meta.env.BASE_URL}${EMBEDDED_MODEL_PATH}`, self.location.origin).href;
  return {
    source: urlSource(base, 'embedded model', signalFetch),
    label: 'Embedded WordNet model',
    kind: 'embedded' as const,
  };
}

const DATA_FILE = /\.(jsonl|ndjson|json|csv|tsv|parquet|txt)$/i;

/**
 * A picked folder without config.json: say what it holds and what it looks like (a dataset, an adapter,
 * a parent of the model folder), and where that goes, instead of failing on a missing file.
 */
async function checkLocalFolder(source: FileSource) {
  if (await source.has('config.json')) return;
  const files = (await source.list?.()) ?? [];
  const found = files.length
    ? `found ${files.slice(0, 4).join(', ')}${files.length > 4 ? ` and ${files.length - 4} more` : ''}`
    : 'it is empty';
  const nested = files.find((f) => f.endsWith('/config.json'));
  let hint =
    'A model folder holds config.json, *.safetensors weights and the tokenizer files ' +
    '(tokenizer.json, tokenizer_config.json).';
  if (nested) hint = `Choose the folder ${nested.slice(0, -'/config.json'.length)} inside it instead.`;
  else if (files.includes('adapter_config.json'))
    hint =
      'It looks like a LoRA adapter: load its base model here, then import the adapter on the ' +
      'Adapters & Export tab.';
  else if (files.some((f) => DATA_FILE.test(f)))
    hint = `It looks like a dataset: import its file on the Data tab. ${hint}`;
  throw new UserError(`not a model folder: there is no config.json (${found}). ${hint}`, source.label);
}

/** Parses config.json up front, so a bad or unsupported one is refused before the loaded model is dropped. */
async function checkConfig(source: FileSource, label: string) {
  if (!(await source.has('config.json'))) return; // the loader reports it
  let json: unknown;
  try {
    json = JSON.parse(await source.text('config.json'));
  } catch {
    return; // the loader reports it, with the position
  }
  parseConfig(json, `${label}/config.json`);
}

export async function loadModelInWorker(
  req: ModelRequest,
  onProgress: (p: LoadProgressEvent) => void,
  job: Job,
): Promise<ModelFacts> {
  const dbp = await db();
  const { source, cached, label, kind } = sourceFor(req, dbp, job);
  if (kind === 'local') await checkLocalFolder(source);
  await checkConfig(source, label);
  // drop the old model first (two may not fit in memory together), and the generator built on it
  await dropGenerator();
  setModel(undefined);
  let last = 0;
  // Reads config, tokenizer and headers; Hub weights stream into browser storage here. The weights are read
  // tensor by tensor when they go to the device.
  const model = await openModel(source, (loaded, total, file) => {
    job.check();
    const now = performance.now();
    if (now - last < 100 && loaded < total) return; // ~10 progress messages a second at most
    last = now;
    onProgress({ file, loaded, total });
  });
  onProgress({ file: 'weights', loaded: model.fileBytes, total: model.fileBytes }); // all at hand
  job.check();
  await cached?.finish();
  const template = pickChatTemplate(model.files.tokenizerConfig, model.files.chatTemplate);
  const configJson: unknown = JSON.parse(await source.text('config.json'));
  const state: ModelState = {
    model,
    configJson,
    label,
    tokenizer: model.files.tokenizerJson
      ? loadTokenizer(model.files.tokenizerJson, model.files.tokenizerConfig)
      : undefined,
    template,
    templateKwargs: defaultTemplateKwargs(model.config.model_type),
  };
  setModel(state);
  const facts = modelFacts(model, label, kind, template !== undefined);
  if (cached)
    facts.cache = {
      cached: cached.stats.cached,
      downloaded: cached.stats.downloaded,
      note: cached.stats.notCached,
    };
  return facts;
}
