// `evaluate` (DESIGN §9): per row of a dataset the prompt, the reference, the greedy prediction (the text
// `generate --chat` gives), exact match, ROUGE-L and the row's loss; with --compare the base model beside
// the adapter. Writes REPORT.json; the last stdout line is the summary. Warns on stderr when a held-out
// prompt has ROUGE-L ≥ 0.7 with a training row (--train-data).
import { readAdapter } from '../engine/io/peft';
import { dirSource } from '../engine/io/source_node';
import { DeviceModel } from '../engine/model/device';
import { Generator } from '../engine/generate/generator';
import { stopIds } from '../engine/generate/stops';
import { defaultTemplateKwargs, pickChatTemplate } from '../engine/text/template';
import { encodeRow, type EncodeContext } from '../engine/text/encode';
import { RowScorer } from '../engine/eval/score';
import {
  buildReport,
  evalCases,
  evalMetrics,
  type EvalReport,
  type Evaluator,
} from '../engine/eval/evaluate';
import { contamination } from '../data/contamination';
import { UserError } from '../errors';
import { parseDatasetStrict } from '../data/formats';
import { modelTokenizer, openModelReader, openRuntime, type BackendChoice } from './context';
import { checkWritableDir } from './files';
import {
  commonFlags,
  backendOf,
  need,
  num,
  outFile,
  parse,
  progressLine,
  readText,
  str,
  writeOut,
} from './data-args';
import { dirname } from 'node:path';
import { defaultTrainConfig } from '../engine/train/config';

export const evaluateFlags = {
  ...commonFlags,
  model: { type: 'string' },
  adapter: { type: 'string' },
  compare: { type: 'boolean', default: false },
  data: { type: 'string' },
  out: { type: 'string' },
  'max-new-tokens': { type: 'string' },
  'max-len': { type: 'string' },
  'train-data': { type: 'string' },
} as const;

export interface EvaluateArgs {
  model: string;
  adapter?: string;
  compare: boolean;
  data: string;
  out: string;
  maxNewTokens: number;
  maxLen: number;
  trainData?: string;
  backend: BackendChoice;
  threads?: number;
  quiet: boolean;
}

export function evaluateArgs(argv: string[]): EvaluateArgs {
  const v = parse(argv, evaluateFlags);
  return {
    model: need(v, 'model'),
    adapter: str(v, 'adapter'),
    compare: !!v.compare,
    data: need(v, 'data'),
    out: outFile(v, 'data'),
    maxNewTokens: num(v, 'max-new-tokens', true) ?? 128,
    maxLen: num(v, 'max-len', true) ?? defaultTrainConfig.maxLen,
    trainData: str(v, 'train-data'),
    backend: backendOf(v),
    threads: num(v, 'threads', true),
    quiet: !!v.quiet,
  };
}

export async function evaluateCmd(a: EvaluateArgs): Promise<EvalReport> {
  if (a.compare && !a.adapter) throw new UserError('--compare needs --adapter (it puts the base beside it)');
  if (!(a.maxNewTokens > 0)) throw new UserError('--max-new-tokens must be > 0');
  checkWritableDir(dirname(a.out) || '.');
  const model = await openModelReader(a.model, a.quiet); // weights read as they go to the device
  const tokenizer = modelTokenizer(model);
  if (!tokenizer) throw new UserError('the model has no tokenizer.json: evaluate needs one');
  const rows = parseDatasetStrict(readText(a.data), a.data.split('/').pop() ?? a.data, {
    vocabSize: model.config.vocab_size,
  });
  const cases = evalCases(rows);
  if (a.trainData) {
    const train = parseDatasetStrict(readText(a.trainData, 'train-data'), a.trainData.split('/').pop()!);
    for (const w of contamination(cases, train))
      process.stderr.write(
        `warning: possible contamination: ${w.where} has ROUGE-L ${w.rougeL.toFixed(2)} with training row ${w.train}\n`,
      );
  }
  const adapter = a.adapter ? await readAdapter(dirSource(a.adapter), model.config) : undefined;
  const template = pickChatTemplate(model.files.tokenizerConfig, model.files.chatTemplate);
  const encode: EncodeContext = {
    tokenizer,
    template,
    templateKwargs: defaultTemplateKwargs(model.config.model_type),
    maxLen: a.maxLen,
    trainOnPrompt: false,
  };
  const ev: Evaluator = {
    encode,
    stopIds: stopIds(model, tokenizer, template),
    maxNewTokens: a.maxNewTokens,
  };
  const maxLen = Math.max(2, ...cases.map((c) => encodeRow(c.row, encode).input_ids.length));
  const runtime = await openRuntime(a.backend, a.threads);
  const device = await DeviceModel.upload(runtime, model);
  const gen = new Generator(device);
  const show = progressLine(a.quiet);
  const pass = async (which: 'adapter' | 'base') => {
    const ad = which === 'adapter' ? adapter : undefined;
    await gen.setAdapter(ad ? { ...ad.meta, weights: ad.weights } : null);
    const scorer = await RowScorer.create({ runtime, model, device, adapter: ad, maxLen });
    const out = [];
    for (let i = 0; i < cases.length; i++) {
      show(`evaluating ${which === 'base' && adapter ? 'base ' : ''}row ${i + 1} / ${cases.length}`);
      out.push(await evalMetrics(gen, scorer, ev, cases[i]));
    }
    show(`evaluated ${cases.length} rows`, true);
    await scorer.dispose();
    return out;
  };
  try {
    const main = await pass(adapter ? 'adapter' : 'base');
    const base = a.compare ? await pass('base') : undefined;
    const report = buildReport(cases, main, base);
    writeOut(a.out, JSON.stringify(report, null, 2) + '\n');
    process.stdout.write(JSON.stringify(report.summary) + '\n');
    return report;
  } finally {
    await gen.dispose();
    await device.dispose();
    await runtime.release();
  }
}
