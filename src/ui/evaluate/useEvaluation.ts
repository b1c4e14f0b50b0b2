// The Evaluate tab's state and actions: which adapter and rows, running the worker's evaluation with
// progress and cancel, the user's votes, storing the report with the adapter's run, and exports.
import { useState } from 'react';
import type { EvalReport } from '../../engine/eval/evaluate';
import type { ContaminationWarning } from '../../data/contamination';
import { useStudio } from '../../state/store';
import type { DataRow } from '../../storage/db';
import { newEvaluation, saveEvaluation, type EvaluationRecord, type Vote } from '../../storage/evaluations';
import { db, download, refreshRuns } from '../actions/app';
import { cb, engine, errorText, isCancelled, newJobId } from '../engine';
import { reportCsv } from './report';

/** "heldout" (the adapter's run's held-out rows) or a dataset id. */
export type RowSource = string;

export interface Progress {
  done: number;
  total: number;
  pass: string;
}

export function useEvaluation() {
  const [adapterId, setAdapterId] = useState<string | null>(null);
  const [source, setSource] = useState<RowSource>('heldout');
  const [compare, setCompare] = useState(true);
  const [maxNewTokens, setMaxNewTokens] = useState(64);
  const [jobId, setJobId] = useState<string | null>(null);
  const [progress, setProgress] = useState<Progress | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [warnings, setWarnings] = useState<ContaminationWarning[]>([]);
  const [evaluation, setEvaluation] = useState<EvaluationRecord | null>(null);
  const [savedIn, setSavedIn] = useState<string | null>(null);

  const s = useStudio.getState;
  const adapter = useStudio((x) => x.adapters.find((a) => a.id === adapterId));
  const run = useStudio((x) => (adapter?.runId ? x.runs.find((r) => r.id === adapter.runId) : undefined));

  async function rowsFor(): Promise<{ rows: DataRow[]; name: string; trainRows?: DataRow[] }> {
    if (source !== 'heldout') {
      const ds = s().datasets.find((d) => d.id === source);
      if (!ds) throw new Error('choose a dataset');
      const trainDs = run ? s().datasets.find((d) => d.id === run.datasetId) : undefined;
      return {
        rows: ds.rows,
        name: ds.name,
        trainRows: trainDs && trainDs.id !== ds.id ? trainDs.rows : undefined,
      };
    }
    if (!run) throw new Error('this adapter has no training run here: choose a dataset to evaluate on');
    const ds = s().datasets.find((d) => d.id === run.datasetId);
    if (!ds) throw new Error(`the run's dataset "${run.datasetName}" is no longer in the studio`);
    const c = run.config as { seed?: number; valSplit?: number; maxLen?: number };
    const rows = await engine().heldOutRows(ds.rows, ds.name, c.seed ?? 0, c.valSplit ?? 0, c.maxLen ?? 1024);
    return { rows, name: `held-out rows of ${ds.name}` };
  }

  async function start() {
    setError(null);
    setWarnings([]);
    setEvaluation(null);
    setSavedIn(null);
    if (s().modelStatus !== 'ready') return setError('load a model on the Model tab first');
    const id = newJobId('evaluate');
    setJobId(id);
    try {
      const { rows, name, trainRows } = await rowsFor();
      let passes = 1;
      const res = await engine().evaluate(
        {
          rows,
          datasetName: name,
          adapterId,
          compare: compare && adapterId !== null,
          maxNewTokens,
          maxLen: 1024,
          trainRows,
        },
        cb((e) => {
          if (e.type === 'start') {
            passes = e.passes;
            setProgress({ done: 0, total: e.n * e.passes, pass: 'starting' });
          } else
            setProgress((p) => ({
              done: (p?.done ?? 0) + 1,
              total: p?.total ?? passes,
              pass: `${e.pass === 'base' ? 'base model' : adapterId ? 'tuned model' : 'base model'}, row ${e.index + 1}`,
            }));
        }),
        id,
      );
      setWarnings(res.warnings);
      const rec = newEvaluation({ adapterId, source: name, report: res.report, votes: {} });
      setEvaluation(rec);
      await store(rec);
    } catch (e) {
      if (!isCancelled(e)) setError(errorText(e));
    } finally {
      setJobId(null);
      setProgress(null);
    }
  }

  async function store(rec: EvaluationRecord) {
    if (!run) return;
    try {
      await saveEvaluation(await db(), run.id, rec);
      setSavedIn(run.name);
      void refreshRuns();
    } catch (e) {
      setError(`the report could not be stored: ${errorText(e)}`);
    }
  }

  function vote(row: number, v: Vote) {
    if (!evaluation) return;
    const votes = { ...evaluation.votes };
    if (votes[row] === v) delete votes[row];
    else votes[row] = v;
    const rec = { ...evaluation, votes };
    setEvaluation(rec);
    void store(rec);
  }

  /** Shows a stored report of the adapter's run again (votes can go on). */
  function open(rec: EvaluationRecord) {
    setEvaluation(rec);
    setSavedIn(run?.name ?? null);
    setWarnings([]);
    setError(null);
  }

  const cancel = () => jobId && void engine().cancel(jobId);
  const base = `evaluation-${adapter?.name ?? 'base'}`.replace(/[^\w.-]+/g, '_');
  const exportJson = (r: EvalReport) =>
    download(`${base}.json`, JSON.stringify(r, null, 2) + '\n', 'application/json');
  const exportCsv = (r: EvalReport) => download(`${base}.csv`, reportCsv(r, evaluation?.votes), 'text/csv');

  return {
    adapterId, setAdapterId, adapter, run, source, setSource, compare, setCompare, maxNewTokens,
    setMaxNewTokens, running: jobId !== null, progress, error, warnings, evaluation, savedIn,
    start, cancel, vote, open, exportJson, exportCsv,
  }; // prettier-ignore
}
