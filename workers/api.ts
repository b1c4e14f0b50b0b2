// The engine worker's API: ONE object exposed with comlink (DESIGN §2, §5). The page imports only its
// type (`EngineApi`); progress comes back through comlink.proxy callbacks, and long calls take a job id
// that cancel/pause/resume address (an AbortSignal cannot cross the worker boundary).
import { UserError } from '../src/engine/errors';
import type { AdapterRecord, DataRow } from '../src/storage';
import type { SelfInstructProgress, SelfInstructResult } from '../src/data/selfinstruct';
import { importAdapter } from './adapters';
import { generate, type GenerateRequest, type GenerateResult, type SamplingParams } from './chat';
import {
  describe,
  deviceLosses,
  getModel,
  loseDevice,
  openRuntime,
  peekModel,
  type BackendPreference,
  type DeviceReport,
} from './context';
import {
  previewData,
  type DataPreview,
  type PreviewRequest,
  type PreviewSegment,
  type RowCount,
} from './data';
import { importDataset, type ImportResult } from './dataImport';
import { rowTokens, runSelfInstruct, scoreIfd, type SelfInstructRequest } from './datatools';
import {
  heldOutRows,
  runEvaluation,
  type EvaluateEvent,
  type EvaluateRequest,
  type EvaluateResult,
} from './evaluate';
import { exportModel, exportRecipe, type ExportFiles, type ExportFormat, type RecipeRequest } from './export';
import { CancelledError, findJob, runJob } from './jobs';
import { holdWorkerLock } from './locks';
import { loadModelInWorker, type LoadProgressEvent, type ModelFacts, type ModelRequest } from './model';
import type { PickedFile } from './sources';
import { runTraining, type TrainEvent, type TrainRequest, type TrainResult } from './train';

let facts: ModelFacts | null = null;
/** Training jobs now in this worker: a model load would pull the weights from under them. */
let training = 0;

/** Errors after a cancel read as "cancelled", whatever the interrupted step threw. */
async function cancellable<T>(jobId: string | undefined, fn: Parameters<typeof runJob<T>>[1]): Promise<T> {
  return runJob(jobId, async (job) => {
    try {
      return await fn(job);
    } catch (e) {
      if (job.cancelled && !(e instanceof CancelledError)) throw new CancelledError();
      throw e;
    }
  });
}

export const api = {
  /** Creates the runtime (WebGPU when an adapter is granted, else wasm) and describes the device. */
  async init(prefer: BackendPreference = 'auto'): Promise<DeviceReport> {
    const rt = await openRuntime(prefer);
    return describe(rt.info);
  },

  /** Resolves once this worker holds the lock named after it, released only when the worker is gone. */
  holdLife(): Promise<void> {
    return holdWorkerLock(self.name);
  },

  /** Loads a base model (replacing the current one); progress ~10×/s. */
  async loadModel(
    req: ModelRequest,
    onProgress: (p: LoadProgressEvent) => void,
    jobId?: string,
  ): Promise<ModelFacts> {
    if (training > 0)
      throw new UserError('a run is training: stop it, or wait until it ends, before loading a model');
    // on failure `facts` stays: a refused folder or config leaves the loaded model in place, and a load
    // that failed later has dropped it (currentModel then answers null)
    facts = await cancellable(jobId, (job) => loadModelInWorker(req, onProgress, job));
    return facts;
  },

  /** Facts of the loaded model, or null. */
  currentModel(): ModelFacts | null {
    return peekModel() ? facts : null;
  },

  /** Parses a dataset file (JSON, JSONL, CSV, TSV): valid rows as written, and per-row errors with lines. */
  importDataset(text: string, fileName: string): ImportResult {
    return importDataset(text, fileName, peekModel()?.model.config.vocab_size);
  },

  /** Token counts per row and the template preview of one row (needs a loaded model with a tokenizer). */
  previewData(req: PreviewRequest): DataPreview {
    return previewData(req);
  },

  /** Trains a LoRA adapter; resolves when the run ends (done, stopped) and rejects when it fails. */
  train(req: TrainRequest, onEvent: (e: TrainEvent) => void, jobId: string): Promise<TrainResult> {
    getModel();
    training++;
    return runJob(jobId, (job) => runTraining(req, onEvent, job)).finally(() => training--);
  },

  /** Streams a reply (text deltas) from the base model or base + a library adapter; one call at a time. */
  generate(req: GenerateRequest, onText: (delta: string) => void, jobId: string): Promise<GenerateResult> {
    return cancellable(jobId, (job) => generate(req, onText, job));
  },

  /** Imports a PEFT adapter (folder files or a .zip), checked against the loaded base model. */
  importAdapter(files: PickedFile[], name: string): Promise<AdapterRecord> {
    return importAdapter(files, name);
  },

  /** GGUF adapter, GGUF of the base (adapterId null) or merged model, or merged safetensors: files to save. */
  exportModel(adapterId: string | null, format: ExportFormat, name: string): Promise<ExportFiles> {
    return exportModel(adapterId, format, name);
  },

  /** The dataset and Train settings as files for TRL / Axolotl on a GPU machine (file name → text). */
  exportRecipe(req: RecipeRequest): Record<string, string> {
    return exportRecipe(req);
  },

  /** Held-out evaluation (base vs tuned per row), the numbers the CLI's `evaluate` gives. */
  evaluate(
    req: EvaluateRequest,
    onEvent: (e: EvaluateEvent) => void,
    jobId: string,
  ): Promise<EvaluateResult> {
    return cancellable(jobId, (job) => runEvaluation(req, onEvent, job));
  },

  /** The rows a run held out for validation (the training split, rebuilt from its seed). */
  heldOutRows(rows: DataRow[], name: string, seed: number, valSplit: number, maxLen: number): DataRow[] {
    return heldOutRows(rows, name, seed, valSplit, maxLen);
  },

  /** IFD per row (null where a row has none) with the loaded model and an optional library adapter. */
  scoreIfd(
    rows: DataRow[],
    adapterId: string | null,
    maxLen: number,
    onProgress: (done: number, total: number) => void,
    jobId: string,
  ): Promise<(number | null)[]> {
    return cancellable(jobId, (job) => scoreIfd(rows, adapterId, maxLen, onProgress, job));
  },

  /** Tokens and trained tokens per row, for the stats panel. */
  rowTokens(rows: DataRow[], maxLen: number): ReturnType<typeof rowTokens> {
    return rowTokens(rows, maxLen);
  },

  /** Self-Instruct with the loaded model; a cancel resolves with the rows kept so far. */
  selfInstruct(
    req: SelfInstructRequest,
    onProgress: (p: SelfInstructProgress) => void,
    jobId: string,
  ): Promise<SelfInstructResult> {
    return runJob(jobId, (job) => runSelfInstruct(req, onProgress, job));
  },

  /** How many times the GPU device was lost (reset) in this worker; each loss is recovered at the next call. */
  deviceLosses(): number {
    return deviceLosses();
  },

  /** Fault tests: destroys the worker's GPU device as a GPU reset does (false without WebGPU). */
  __testLoseDevice(): Promise<boolean> {
    return loseDevice();
  },

  cancel(jobId: string): boolean {
    const job = findJob(jobId);
    job?.cancel();
    return job !== undefined;
  },
  pause(jobId: string): boolean {
    const job = findJob(jobId);
    job?.pause();
    return job !== undefined;
  },
  resume(jobId: string): boolean {
    const job = findJob(jobId);
    job?.resume();
    return job !== undefined;
  },
};

export type EngineApi = typeof api;
export type {
  DeviceReport,
  ModelFacts,
  ModelRequest,
  LoadProgressEvent,
  ImportResult,
  DataPreview,
  PreviewRequest,
};
export type { TrainEvent, TrainRequest, TrainResult, PickedFile, RowCount, PreviewSegment };
export type { GenerateRequest, GenerateResult, SamplingParams, ExportFormat, ExportFiles, RecipeRequest };
export type { EvaluateEvent, EvaluateRequest, EvaluateResult, SelfInstructRequest };
