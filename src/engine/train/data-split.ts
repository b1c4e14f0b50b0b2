// The training rows of a run: the seeded validation split (the CLI and the studio hold out the same rows) and
// the dataset fingerprint a checkpoint keeps, a 64-bit hash of the examples as trained (token ids and labels
// after the template, truncation and prompt masking), so a resume can refuse data that changed.
import { UserError } from '../errors';
import type { Example } from './batches';
import { Rng } from './rng';

export interface SplitRows {
  train: Example[];
  val: Example[];
}

/** Holds out round(n · fraction) rows (at least one) chosen by the seed; the rest keep their order. */
export function splitValidation(examples: Example[], fraction: number, seed: number): SplitRows {
  if (!(fraction > 0)) return { train: examples, val: [] };
  const order = new Rng(seed ^ 0x5eed).shuffle([...examples.keys()]);
  const nVal = Math.max(1, Math.round(examples.length * fraction));
  if (nVal >= examples.length)
    throw new UserError(`a validation split of ${fraction} leaves no training rows`);
  const held = new Set(order.slice(0, nVal));
  return {
    train: examples.filter((_, i) => !held.has(i)),
    val: examples.filter((_, i) => held.has(i)),
  };
}

/**
 * Two independent 32-bit multiply-xorshift lanes over every row's length, ids and labels, as 16 hex digits.
 * Not cryptographic: it tells an edited, added, removed or reordered row from the original.
 */
export function datasetFingerprint(examples: Example[]): string {
  let a = 0x9e3779b9 | 0;
  let b = 0x85ebca6b | 0;
  const mix = (x: number) => {
    a = Math.imul(a ^ x, 0x01000193);
    a ^= a >>> 15;
    b = Math.imul(b + x, 0xc2b2ae35) ^ (b >>> 13);
  };
  mix(examples.length);
  for (const e of examples) {
    mix(e.input_ids.length);
    for (const t of e.input_ids) mix(t);
    for (const t of e.labels) mix(t);
  }
  const hex = (x: number) => (x >>> 0).toString(16).padStart(8, '0');
  return hex(a) + hex(b);
}

/** Refuses to resume a checkpoint made on other data (checkpoints older than fingerprints pass). */
export function checkResumeData(resume: { step: number; data?: string } | undefined, fingerprint: string) {
  if (resume?.data && resume.data !== fingerprint)
    throw new UserError(
      `the dataset changed since the checkpoint of step ${resume.step} was saved: resume with the data it was ` +
        'trained on, or start a new run',
    );
}
