// Splitting the embedding and LM head over the vocabulary (for devices whose largest binding is smaller
// than the matrix) gives the same loss, gradients and generation logits as the whole matrix.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Generator } from '../generate/generator';
import { createNodeRuntime } from '../runtime/node_node';
import type { Runtime } from '../runtime/types';
import { maxRelErr } from '../testing/compare';
import { resolveTrainConfig } from '../train/config';
import { Trainer } from '../train/trainer';
import { DeviceModel } from './device';
import { splitRows } from './vocab';
import { goldenCase } from '../testing/golden_node';

let rt: Runtime;
beforeAll(async () => {
  rt = await createNodeRuntime({ backend: 'cpu', threads: 2 });
});
afterAll(async () => rt?.release());

describe('vocabulary split', () => {
  it('cuts rows into parts of at most the limit', () => {
    expect(splitRows(10, 4, 48)).toEqual([
      { offset: 0, rows: 3 },
      { offset: 3, rows: 3 },
      { offset: 6, rows: 3 },
      { offset: 9, rows: 1 },
    ]);
    expect(splitRows(10, 4, 1000)).toEqual([{ offset: 0, rows: 10 }]);
  });

  it.each(['llama_tied', 'qwen3'])(
    '%s: same loss, gradients and logits as the whole matrix',
    async (name) => {
      const { model, adapter, rows } = await goldenCase(name);
      const config = resolveTrainConfig({
        rank: 4,
        alpha: 8,
        targets: 'all-linear',
        dropout: 0,
        batchSize: 4,
        steps: 1,
      });
      const run = async (maxTensorBytes?: number) => {
        const device = await DeviceModel.upload(rt, model, { maxTensorBytes });
        const t = await Trainer.create({
          runtime: rt,
          model,
          device,
          config,
          train: rows,
          init: adapter.weights,
        });
        const loss = await t.evaluate(rows);
        const grads = await t.gradients(rows);
        await t.dispose();
        const gen = new Generator(device);
        await gen.setAdapter({ ...adapter.meta, weights: adapter.weights });
        let logits = new Float32Array();
        await gen.generate([rows[0].input_ids.slice(0, 5)], {
          maxNewTokens: 1,
          stopIds: [],
          onLogits: (_, l) => (logits = l.slice()),
        });
        await gen.dispose();
        const parts = [...device.shapes.keys()].filter((k) => k.includes('#')).length;
        await device.dispose();
        return { loss, grads, logits, parts };
      };
      const whole = await run();
      const split = await run(5000); // 26–39 rows per part
      expect(whole.parts).toBe(0);
      expect(split.parts).toBeGreaterThanOrEqual(3);
      expect(Math.abs(split.loss.loss - whole.loss.loss) / whole.loss.loss).toBeLessThan(1e-6);
      for (const which of ['A', 'B'] as const) {
        for (const [k, g] of whole.grads[which])
          expect(maxRelErr(split.grads[which].get(k)!, g), k).toBeLessThan(1e-5);
      }
      expect(maxRelErr(split.logits, whole.logits)).toBeLessThan(1e-6);
    },
  );
});
