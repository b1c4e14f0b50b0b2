// Held-out evaluation in the worker, with the same engine code as the CLI's `evaluate` (src/engine/eval):
// per row the greedy prediction, exact, ROUGE-L and loss, for the tuned model and the base beside it, so a
// row's numbers here equal the command's. Rows can be a run's held-out split (the training split, rebuilt
// from the run's seed) or any dataset.
import { contamination, type ContaminationWarning } from '../src/data/contamination';
import { issuesError } from '../src/data/formats';
import { UserError } from '../src/engine/errors';
import {
  buildReport,
  evalCases,
  evalMetrics,
  metricsOf,
  type EvalMetrics,
  type EvalReport,
  type Evaluator,
  type RowResult,
} from '../src/engine/eval/evaluate';
import { RowScorer } from '../src/engine/eval/score';
import { Generator } from '../src/engine/generate/generator';
import { stopIds } from '../src/engine/generate/stops';
import { countTrained, encodeRow } from '../src/engine/text/encode';
import { Rng } from '../src/engine/rng';
import type { DataRow } from '../src/storage';
import { getDeviceModel, getModel, getRuntime } from './context';
import { encodeContext, toRows } from './data';
import type { Job } from './jobs';
import { libraryAdapter } from './library';

export interface EvaluateRequest {
  rows: DataRow[];
  datasetName: string;
  /** The tuned model: a library adapter; null evaluates the base alone. */
  adapterId: string | null;
  /** Put the base model beside the adapter. */
  compare: boolean;
  maxNewTokens: number;
  maxLen: number;
  /** Training rows, for the contamination warning. */
  trainRows?: DataRow[];
}

export type EvaluateEvent =
  | { type: 'start'; n: number; passes: number }
  | { type: 'row'; pass: 'tuned' | 'base'; index: number; metrics: EvalMetrics };

export interface EvaluateResult {
  report: EvalReport;
  warnings: ContaminationWarning[];
}

/** The rows a run held out: the same seeded split as training (rows with nothing to train are dropped first). */
export function heldOutRows(rows: DataRow[], name: string, seed: number, valSplit: number, maxLen: number) {
  const m = getModel();
  const { rows: parsed, issues } = toRows(rows, name, m.model.config.vocab_size);
  if (issues.length) throw issuesError(issues);
  const ctx = encodeContext(m, maxLen, false);
  const usable = parsed.flatMap((r, i) => (countTrained(encodeRow(r, ctx).labels) > 0 ? [i] : []));
  if (!(valSplit > 0)) throw new UserError('this run held out no rows (its validation split is 0)');
  const order = new Rng(seed ^ 0x5eed).shuffle([...usable.keys()]);
  const nVal = Math.max(1, Math.round(usable.length * valSplit));
  const held = new Set(order.slice(0, nVal));
  return usable.filter((_, k) => held.has(k)).map((i) => rows[i]);
}

export async function runEvaluation(
  req: EvaluateRequest,
  emit: (e: EvaluateEvent) => void,
  job: Job,
): Promise<EvaluateResult> {
  const m = getModel();
  if (!m.tokenizer) throw new UserError('this model has no tokenizer.json, so it cannot be evaluated');
  if (req.compare && !req.adapterId) throw new UserError('choose an adapter to compare with the base');
  const { rows, issues } = toRows(req.rows, req.datasetName, m.model.config.vocab_size);
  if (issues.length) throw issuesError(issues);
  const cases = evalCases(rows);
  const warnings = req.trainRows
    ? contamination(cases, toRows(req.trainRows, 'training data', m.model.config.vocab_size).rows)
    : [];
  const encode = encodeContext(m, req.maxLen, false);
  const ev: Evaluator = {
    encode,
    stopIds: stopIds(m.model, m.tokenizer, m.template),
    maxNewTokens: req.maxNewTokens,
  };
  const maxLen = Math.max(2, ...cases.map((c) => encodeRow(c.row, encode).input_ids.length));
  const adapter = req.adapterId ? await libraryAdapter(req.adapterId) : undefined;
  const runtime = await getRuntime();
  const device = await getDeviceModel();
  const gen = new Generator(device);
  const passes: ('tuned' | 'base')[] = adapter ? (req.compare ? ['tuned', 'base'] : ['tuned']) : ['base'];
  emit({ type: 'start', n: cases.length, passes: passes.length });
  const results: Record<string, RowResult[]> = {};
  try {
    for (const pass of passes) {
      const ad = pass === 'tuned' ? adapter : undefined;
      await gen.setAdapter(ad ? { ...ad.meta, weights: ad.weights } : null);
      const scorer = await RowScorer.create({ runtime, model: m.model, device, adapter: ad, maxLen });
      try {
        const out: RowResult[] = (results[pass] = []);
        for (let i = 0; i < cases.length; i++) {
          await job.gate();
          const r = await evalMetrics(gen, scorer, ev, cases[i]);
          out.push(r);
          emit({ type: 'row', pass, index: i, metrics: metricsOf(r) });
        }
      } finally {
        await scorer.dispose();
      }
    }
  } finally {
    await gen.dispose();
  }
  const report = buildReport(cases, results[passes[0]], req.compare ? results.base : undefined);
  return { report, warnings };
}
