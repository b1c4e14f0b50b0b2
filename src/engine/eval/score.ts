// Per-row token cross-entropies through the engine's eval path, and Instruction-Following Difficulty
// (Li et al., "From Quantity to Quality"; DESIGN §9): with S the row's one trained span (labels ≠ −100, as
// training marks it), IFD = CE(S[1:] | everything before S[1]) / CE(S[1:] | S[0] alone), each a mean over
// the tokens of S[1:]. Rows with no span, several spans or |S| < 2 have no IFD (null).
import type { Adapter } from '../io/peft';
import type { BaseModel, WeightStream, DeviceModel } from '../model/device';
import type { Runtime } from '../runtime/types';
import { IGNORE, trainedTokens, type Example } from '../train/batches';
import { ALL_LINEAR, resolveTrainConfig } from '../train/config';
import { Trainer } from '../train/trainer';

export interface RowLoss {
  /** Mean CE over the row's trained tokens (NaN when it has none). */
  loss: number;
  tokens: number;
}

export interface ScorerInit {
  runtime: Runtime;
  model: BaseModel | WeightStream;
  /** The model already on the device (shared with generation); uploaded when absent. */
  device?: DeviceModel;
  /** Without an adapter the base model is scored (a rank-1 adapter with B = 0 adds exactly nothing). */
  adapter?: Pick<Adapter, 'meta' | 'weights'>;
  /** Longest row, in tokens. */
  maxLen: number;
}

/** Scores rows one at a time (batch 1): each row's loss is exactly its own Σ CE / its tokens. */
export class RowScorer {
  private constructor(private readonly trainer: Trainer) {}

  static async create(init: ScorerInit): Promise<RowScorer> {
    const meta = init.adapter?.meta;
    const config = resolveTrainConfig({
      rank: meta?.rank ?? 1,
      alpha: meta?.alpha ?? 1,
      rslora: meta?.rslora ?? false,
      targets: meta?.targets ?? [...ALL_LINEAR].slice(0, 1),
      dropout: 0,
      batchSize: 1,
      gradAccum: 1,
      maxLen: Math.max(2, init.maxLen),
      steps: 1,
      shuffle: false,
      packing: false,
    });
    const placeholder: Example = { input_ids: [0, 0], labels: [IGNORE, 0] };
    const trainer = await Trainer.create({
      runtime: init.runtime,
      model: init.model,
      device: init.device,
      config,
      train: [placeholder],
      init: init.adapter?.weights,
    });
    return new RowScorer(trainer);
  }

  async rowLoss(e: Example): Promise<RowLoss> {
    if (trainedTokens(e) === 0) return { loss: NaN, tokens: 0 };
    return this.trainer.evaluate([e]);
  }

  dispose(): Promise<void> {
    return this.trainer.dispose();
  }
}

/** Runs of consecutive positions whose label is trained, as [start, end). */
export function trainedSpans(labels: readonly number[]): [number, number][] {
  const spans: [number, number][] = [];
  for (let t = 0; t < labels.length; t++) {
    if (labels[t] === IGNORE) continue;
    if (spans.length && spans[spans.length - 1][1] === t) spans[spans.length - 1][1] = t + 1;
    else spans.push([t, t + 1]);
  }
  return spans;
}

/** The two rows IFD compares, or null when the row has no IFD. */
export function ifdPair(e: Example): { conditioned: Example; alone: Example } | null {
  const spans = trainedSpans(e.labels);
  if (spans.length !== 1) return null;
  const [s, end] = spans[0];
  if (end - s < 2) return null;
  const ids = e.input_ids.slice(0, end);
  const mark = (from: number, xs: number[]) => xs.map((id, t) => (t >= from ? id : IGNORE));
  return {
    conditioned: { input_ids: ids, labels: mark(s + 1, ids) },
    alone: { input_ids: ids.slice(s), labels: mark(1, ids.slice(s)) },
  };
}

export interface IfdScore {
  ifd: number | null;
  /** Mean CE of S[1:] with the instruction, and with S[0] alone. */
  conditioned?: number;
  alone?: number;
}

export async function ifdScore(scorer: RowScorer, e: Example): Promise<IfdScore> {
  const pair = ifdPair(e);
  if (!pair) return { ifd: null };
  const conditioned = (await scorer.rowLoss(pair.conditioned)).loss;
  const alone = (await scorer.rowLoss(pair.alone)).loss;
  return { ifd: conditioned / alone, conditioned, alone };
}
