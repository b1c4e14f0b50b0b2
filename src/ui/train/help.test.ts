// The Train form covers every TrainConfig field once, and its help text is the field's doc comment in
// src/engine/train/config.ts (so the two cannot drift apart).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { defaultTrainConfig, resolveTrainConfig } from '../../engine/train/config';
import { fieldLabel, trainConfigHelp, trainFormGroups } from './help';

describe('train form help', () => {
  it('lays out every config field exactly once', () => {
    const keys = trainFormGroups.flatMap((g) => g.fields.map((f) => f.key));
    expect(new Set(keys).size).toBe(keys.length);
    expect([...keys].sort()).toEqual(Object.keys(defaultTrainConfig).sort());
  });

  it('uses the doc comments of TrainConfig verbatim', () => {
    const src = readFileSync(new URL('../../engine/train/config.ts', import.meta.url), 'utf8');
    const body = src.slice(
      src.indexOf('export interface TrainConfig'),
      src.indexOf('\n}', src.indexOf('export interface TrainConfig')),
    );
    const docs = Object.fromEntries(
      [...body.matchAll(/\/\*\* (.+?) \*\/\s+(\w+)\??:/g)].map((m) => [m[2], m[1]]),
    );
    expect(trainConfigHelp).toEqual(docs);
  });

  it('names a bad setting by its label in the errors', () => {
    expect(() => resolveTrainConfig({ lr: 0 }, fieldLabel)).toThrow('Learning rate must be > 0 (got 0)');
    expect(() => resolveTrainConfig({ gradAccum: 0 }, fieldLabel)).toThrow(
      'Gradient accumulation must be a positive integer (got 0)',
    );
  });
});
