// IFD against PyTorch on the golden tiny models (tests/fixtures/golden/ifd.json, tools/golden_ifd.py):
// both cross-entropies and their ratio to 1e-4 relative, base and with an adapter; rows without one
// trained span, or with a span of one token, have no IFD.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNodeRuntime } from '../runtime/node_node';
import type { Runtime } from '../runtime/types';
import { GOLDEN_DIR, goldenCase } from '../testing/golden_node';
import { ifdPair, ifdScore, RowScorer, trainedSpans } from './score';

type Golden = { ifd: number; conditioned: number; alone: number } | null;
const golden = JSON.parse(readFileSync(join(GOLDEN_DIR, 'ifd.json'), 'utf8')) as {
  cases: Record<string, { base: Golden[]; adapter_init: Golden[] }>;
};
const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);

let rt: Runtime;
beforeAll(async () => {
  rt = await createNodeRuntime({ backend: 'cpu', threads: 2 });
});
afterAll(async () => rt?.release());

describe('trained spans', () => {
  it('finds runs of trained labels; IFD needs exactly one of length ≥ 2', () => {
    expect(trainedSpans([-100, -100, 5, 6, -100, 7])).toEqual([
      [2, 4],
      [5, 6],
    ]);
    expect(ifdPair({ input_ids: [1, 2, 3, 4, 5, 6], labels: [-100, -100, 3, 4, -100, 6] })).toBeNull();
    expect(ifdPair({ input_ids: [1, 2, 3], labels: [-100, -100, 3] })).toBeNull();
    expect(ifdPair({ input_ids: [1, 2, 3, 4, 9], labels: [-100, -100, 3, 4, -100] })).toEqual({
      conditioned: { input_ids: [1, 2, 3, 4], labels: [-100, -100, -100, 4] },
      alone: { input_ids: [3, 4], labels: [-100, 4] },
    });
  });
});

describe.each(Object.keys(golden.cases))('IFD on golden %s', (name) => {
  it('equals PyTorch for the base model and with an adapter (1e-4 relative)', async () => {
    const { model, adapter, rows } = await goldenCase(name);
    const maxLen = Math.max(...rows.map((r) => r.input_ids.length));
    for (const [key, ad] of [
      ['base', undefined],
      ['adapter_init', adapter],
    ] as const) {
      const scorer = await RowScorer.create({ runtime: rt, model, adapter: ad, maxLen });
      const want = golden.cases[name][key];
      for (let i = 0; i < rows.length; i++) {
        const got = await ifdScore(scorer, rows[i]);
        const w = want[i];
        if (w === null) {
          expect(got.ifd, `${key} row ${i}`).toBeNull();
          continue;
        }
        expect(rel(got.conditioned!, w.conditioned), `${key} row ${i} conditioned`).toBeLessThan(1e-4);
        expect(rel(got.alone!, w.alone), `${key} row ${i} alone`).toBeLessThan(1e-4);
        expect(rel(got.ifd!, w.ifd), `${key} row ${i} ifd`).toBeLessThan(1e-4);
      }
      await scorer.dispose();
    }
    // the adapter changes the scores (the test would notice a scorer that ignored it)
    expect(golden.cases[name].base[0]!.ifd).not.toBeCloseTo(golden.cases[name].adapter_init[0]!.ifd, 3);
  });
});
