// Packing several rows into one sequence (positions restart, attention stays within each row) gives the
// same loss and LoRA gradients as one row per sequence; right padding never leaks into real tokens.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNodeRuntime } from '../runtime/node_node';
import type { Runtime } from '../runtime/types';
import { maxRelErr } from '../testing/compare';
import { makeMicroBatch, planMicroBatches, type Example } from './batches';
import { resolveTrainConfig } from './config';
import { Trainer } from './trainer';
import { goldenCase } from '../testing/golden_node';

let rt: Runtime;
beforeAll(async () => {
  rt = await createNodeRuntime({ backend: 'cpu', threads: 2 });
});
afterAll(async () => rt?.release());

describe('packing', () => {
  it('lays rows out with restarting positions and per-row segments', () => {
    const rows: Example[] = [
      { input_ids: [1, 2, 3], labels: [-100, 2, 3] },
      { input_ids: [4, 5], labels: [4, 5] },
    ];
    const [plan] = planMicroBatches(rows, 1, 16, true);
    expect(plan).toHaveLength(1);
    const mb = makeMicroBatch(plan, 1, 16);
    expect(Array.from(mb.position_ids.slice(0, 6))).toEqual([0, 1, 2, 0, 1, 5]);
    expect(Array.from(mb.segment_ids.slice(0, 6))).toEqual([0, 0, 0, 1, 1, -1]);
    // targets: 2,3 from row 0 (positions 0,1) and 5 from row 1 (position 3); never across the boundary
    expect(mb.tokens).toBe(3);
    expect(Array.from(mb.label_pos.slice(0, 3))).toEqual([0, 1, 3]);
    expect(Array.from(mb.label_ids.slice(0, 3))).toEqual([2, 3, 5]);
  });

  it('gives the same loss and gradients as unpacked rows', async () => {
    const { model, adapter, rows } = await goldenCase('qwen2');
    const init = adapter.weights;
    const run = async (packing: boolean, batchSize: number) => {
      const config = resolveTrainConfig({
        rank: 4,
        alpha: 8,
        rslora: true,
        targets: 'all-linear',
        dropout: 0,
        packing,
        batchSize,
        maxLen: 64,
        steps: 1,
      });
      const t = await Trainer.create({ runtime: rt, model, config, train: rows, init });
      const loss = await t.evaluate(rows);
      const grads = await t.gradients(rows);
      await t.dispose();
      return { loss, grads };
    };
    const plain = await run(false, 4);
    const packed = await run(true, 1);
    expect(packed.loss.tokens).toBe(plain.loss.tokens);
    expect(Math.abs(packed.loss.loss - plain.loss.loss) / plain.loss.loss).toBeLessThan(1e-5);
    for (const which of ['A', 'B'] as const) {
      for (const [k, g] of plain.grads[which])
        expect(maxRelErr(packed.grads[which].get(k)!, g), k).toBeLessThan(1e-4);
    }
  });
});
