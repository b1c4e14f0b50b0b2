// Evaluation reports kept with their run: the Evaluate tab's report (DESIGN §9's JSON) and the user's
// pairwise votes, appended to the run record (a field added to RunRecord here), newest last.
import type { EvalReport } from '../engine/eval/evaluate';
import { newId, stamp, type DB } from './db';
import { updateRun, getRun } from './runs';

/** The user's preference for one row: the tuned model's answer, the base's, or neither. */
export type Vote = 'tuned' | 'base' | 'tie';

export interface EvaluationRecord {
  id: string;
  createdAt: number;
  adapterId: string | null;
  /** "held-out rows of <dataset>" or a dataset's name. */
  source: string;
  report: EvalReport;
  /** Row index → vote. */
  votes: Record<number, Vote>;
}

declare module './db' {
  interface RunRecord {
    /** Evaluation reports of this run's adapter (Evaluate tab). */
    evaluations?: EvaluationRecord[];
  }
}

export function newEvaluation(e: Omit<EvaluationRecord, 'id' | 'createdAt'>): EvaluationRecord {
  return { ...e, id: newId('eval'), createdAt: stamp() };
}

/** Stores (or replaces, by id) an evaluation in its run's record. */
export async function saveEvaluation(db: DB, runId: string, e: EvaluationRecord): Promise<void> {
  const run = await getRun(db, runId);
  if (!run) throw new Error(`run ${runId} not found`);
  const list = (run.evaluations ?? []).filter((x) => x.id !== e.id);
  await updateRun(db, runId, { evaluations: [...list, e] });
}
