// The training loop the CLI and the studio share: Trainer steps until the run is done, stopped or paused,
// validation loss when due, checkpoints when `checkpointEvery` steps or `checkpointSeconds` seconds come due
// and at every pause, stop and end. A NaN or Inf step is not applied: the run ends paused at its last good
// state, checkpointed. The callers only store and show what the callbacks hand them.
import type { Example } from './batches';
import type { TrainConfig } from './config';
import { checkResumeData } from './data-split';
import { NonFiniteStepError, type Checkpoint, type StepMetrics, type Trainer } from './trainer';

export interface LoopHooks {
  /** After each optimizer step; `valLoss` when validation ran at this step. */
  onStep?: (m: StepMetrics, valLoss: number | undefined) => void | Promise<void>;
  /** Each validation loss (also the one measured when a run is stopped early). */
  onEval?: (step: number, loss: number) => void | Promise<void>;
  /** Stores a checkpoint (atomically: the previous one stays until this one is complete). */
  onCheckpoint: (ck: Checkpoint) => Promise<void>;
  /** Checked before each step: true ends the run as stopped. */
  shouldStop?: () => boolean;
  /** Checked before each step: true checkpoints, then waits in `whilePaused`. */
  shouldPause?: () => boolean;
  /** Called once paused and checkpointed; resolves when the run may go on (then `shouldStop` is asked again). */
  whilePaused?: () => Promise<void>;
  /** Told when a paused run goes on. */
  onContinue?: () => void | Promise<void>;
  /** Milliseconds on a monotonic clock (tests pass a fake one). */
  now?: () => number;
}

export interface LoopOptions {
  config: Pick<TrainConfig, 'checkpointEvery' | 'checkpointSeconds' | 'evalEvery'>;
  /** Validation rows (may be empty). */
  val: Example[];
  /** `datasetFingerprint` of the training examples, stored in every checkpoint. */
  fingerprint: string;
  /** The checkpoint the trainer was created from, if any: its data must have the same fingerprint. */
  resume?: Checkpoint;
  hooks: LoopHooks;
}

export interface LoopResult {
  /** done: every step ran; stopped: asked to stop; paused: a NaN/Inf step (see `message`) */
  status: 'done' | 'stopped' | 'paused';
  step: number;
  lastLoss?: number;
  lastValLoss?: number;
  /** Why the run paused, naming the step (NaN/Inf). */
  message?: string;
}

export async function runTrainingLoop(trainer: Trainer, o: LoopOptions): Promise<LoopResult> {
  checkResumeData(o.resume, o.fingerprint);
  const h = o.hooks;
  const now = h.now ?? (() => performance.now());
  const { checkpointEvery, checkpointSeconds } = o.config;
  const evalEvery = o.config.evalEvery || trainer.totalSteps;
  let lastSaved = o.resume?.step ?? -1;
  let savedAt = now();
  let lastLoss: number | undefined;
  let lastValLoss: number | undefined;
  let valStep = -1;

  const checkpoint = async () => {
    if (trainer.step === lastSaved) return;
    await h.onCheckpoint({ ...(await trainer.checkpoint()), data: o.fingerprint });
    lastSaved = trainer.step;
    savedAt = now();
  };
  const evaluate = async () => {
    const { loss } = await trainer.evaluate(o.val);
    lastValLoss = loss;
    valStep = trainer.step;
    await h.onEval?.(trainer.step, loss);
  };
  const checkpointDue = (step: number) =>
    (checkpointEvery > 0 && step % checkpointEvery === 0) ||
    (checkpointSeconds > 0 && now() - savedAt >= checkpointSeconds * 1000);

  let stopped = false;
  while (trainer.step < trainer.totalSteps) {
    if (h.shouldStop?.()) {
      stopped = true;
      break;
    }
    if (h.shouldPause?.()) {
      await checkpoint();
      await h.whilePaused?.();
      if (h.shouldStop?.()) {
        stopped = true;
        break;
      }
      await h.onContinue?.();
    }
    let m: StepMetrics;
    try {
      m = await trainer.trainStep();
    } catch (e) {
      if (!(e instanceof NonFiniteStepError)) throw e;
      // the trainer is back at the last good state: keep it, and end the run paused
      await checkpoint();
      return { status: 'paused', step: trainer.step, lastLoss, lastValLoss, message: e.message };
    }
    lastLoss = m.loss;
    let valLoss: number | undefined;
    if (o.val.length && (m.step % evalEvery === 0 || m.step === trainer.totalSteps)) {
      valLoss = lastValLoss = (await trainer.evaluate(o.val)).loss;
      valStep = m.step;
    }
    await h.onStep?.(m, valLoss);
    if (valLoss !== undefined) await h.onEval?.(m.step, valLoss);
    if (checkpointDue(m.step)) await checkpoint();
  }
  // stopped early: the validation loss of what is kept
  if (stopped && o.val.length && trainer.step > 0 && valStep !== trainer.step) await evaluate();
  if (trainer.step > 0) await checkpoint();
  return { status: stopped ? 'stopped' : 'done', step: trainer.step, lastLoss, lastValLoss };
}
