// The train progress line: the time left comes from the recent steps' times, without the first step of the
// run (graph building), and is absent on the last step.
import { describe, expect, it } from 'vitest';
import type { StepMetrics } from '../engine/train/trainer';
import { clock, TrainProgress } from './progress';

const step = (n: number, ms: number): StepMetrics => ({
  step: n,
  loss: 2.5,
  lr: 2e-4,
  grad_norm: 1.25,
  tokens: 512,
  ms,
});

describe('train progress', () => {
  it('estimates the time left from the steps after the first', () => {
    const p = new TrainProgress(100);
    expect(p.line(step(1, 30_000), undefined)).toBe(
      'step 1/100  loss 2.5000  lr 2.00e-4  grad_norm 1.250  17 tok/s\n',
    );
    p.line(step(2, 1000), undefined);
    expect(p.line(step(3, 2000), 2.25)).toBe(
      'step 3/100  loss 2.5000  val 2.2500  lr 2.00e-4  grad_norm 1.250  256 tok/s  2m 26s left\n',
    );
    expect(p.line(step(100, 1500), undefined)).not.toMatch(/left/);
  });

  it('after a resume, the resumed run’s first step is the one left out', () => {
    const p = new TrainProgress(10, 4);
    expect(p.line(step(5, 9000), undefined)).not.toMatch(/left/);
    expect(p.line(step(6, 1000), undefined)).toMatch(/ {2}4s left\n$/);
  });

  it('formats durations', () => {
    expect([clock(400), clock(42_000), clock(185_000), clock(7_620_000)]).toEqual([
      '0s',
      '42s',
      '3m 05s',
      '2h 07m',
    ]);
  });
});
