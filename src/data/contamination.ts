// Contamination check for held-out evaluation (DESIGN §9): a held-out row whose instruction text has
// ROUGE-L ≥ 0.7 with a training row's measures memory rather than generalisation. Normalised rows are
// compared by their first user turn (an alpaca row's "instruction\n\ninput" tokenizes as "instruction input").
import { RougeIndex } from './dedupe';
import { instructionOfMessages } from './instruction';
import type { Row } from './rows';

export interface ContaminationWarning {
  /** The held-out row. */
  where: string;
  /** The training row it resembles. */
  train: string;
  rougeL: number;
}

const textOf = (r: Row) => (r.kind === 'chat' ? instructionOfMessages(r.messages) : undefined);

export function contamination(
  heldOut: readonly { row: Row; where: string }[],
  train: readonly Row[],
  threshold = 0.7,
): ContaminationWarning[] {
  const index = new RougeIndex();
  train.forEach((r, i) => {
    const t = textOf(r);
    if (t !== undefined) index.add(i, t);
  });
  const out: ContaminationWarning[] = [];
  for (const h of heldOut) {
    const t = textOf(h.row);
    const best = t !== undefined ? index.best(t) : undefined;
    if (best && best.rougeL >= threshold)
      out.push({ where: h.where, train: train[best.id].where, rougeL: best.rougeL });
  }
  return out;
}
