// NEFTune on the input embeddings (DESIGN §9): α = 0 leaves the step graph byte-identical; with α > 0 the
// noise measured from the embedding graph's output is uniform in ±α/√(L·d) per row (L = the row's unpadded
// length), zero on padding, different per seed and per row, reproducible; both plans train the same with it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toOnnx } from '../graph/onnx';
import { DeviceModel } from '../model/device';
import { loraSpecs } from '../model/lora';
import { createNodeRuntime } from '../runtime/node_node';
import type { Runtime } from '../runtime/types';
import { goldenCase } from '../testing/golden_node';
import { makeMicroBatch } from './batches';
import { ALL_LINEAR, resolveTrainConfig } from './config';
import { buildEmbedGraph } from './layerwise';
import { neftuneScale } from './plan';
import { buildStepGraph } from './step';
import { Trainer } from './trainer';

let rt: Runtime;
beforeAll(async () => {
  rt = await createNodeRuntime({ backend: 'cpu', threads: 2 });
});
afterAll(async () => rt?.release());

describe('NEFTune', () => {
  it('α = 0 builds exactly the graph without NEFTune', async () => {
    const { model } = await goldenCase('qwen3');
    const spec = {
      config: model.config,
      weightShapes: new Map([...model.weights].map(([k, w]) => [k, w.shape])),
      specs: loraSpecs(model.config, ALL_LINEAR),
      rank: 4,
      scale: 2,
      dropout: 0.1,
      mode: 'train' as const,
      B: 2,
      T: 16,
      N: 8,
      chunk: 8,
      accumulateIn: false,
      clip: true,
    };
    // same nodes, inputs and outputs (value names carry build-order ids, so bytes differ between builds)
    const shape = (neftune?: boolean) => {
      const g = buildStepGraph({ ...spec, neftune });
      return {
        ops: g.nodes.map((n) => n.op),
        inputs: g.inputs.map((v) => v.name),
        outputs: g.outputs.map((v) => v.name),
      };
    };
    expect(shape(false)).toEqual(shape(undefined));
    expect(shape(true).inputs).toContain('neftune_scale');
    expect(shape(true).ops.length).toBeGreaterThan(shape(false).ops.length);
  });

  it('noise is uniform in ±α/√(L·d) per row, zero on padding, seeded', async () => {
    const { model, rows } = await goldenCase('llama');
    const device = await DeviceModel.upload(rt, model);
    const D = model.config.hidden_size;
    const mb = makeMicroBatch([[rows[0]], [rows[1]]], 2, 64);
    const spec = {
      config: model.config,
      weightShapes: device.shapes,
      storage: 'float32' as const,
      layerSpecs: [],
      rank: 4,
      scale: 1,
      dropout: 0,
      neftune: true,
      B: 2,
      T: mb.T,
    };
    const rope = await device.ropeTables(mb.T);
    const base = {
      input_ids: rt.tensor('int32', mb.input_ids, [2, mb.T]),
      position_ids: rt.tensor('int32', mb.position_ids, [2, mb.T]),
      segment_ids: rt.tensor('float32', mb.segment_ids, [2, mb.T]),
      rope_cos: rope.cos,
      rope_sin: rope.sin,
    };
    const weights = {} as Record<string, never>;
    device.feedWeights(weights, ['model.embed_tokens.weight']);
    const alpha = 5;
    const clean = (
      await (await rt.createSession(toOnnx(buildEmbedGraph(spec, false)))).run({ ...base, ...weights })
    ).h;
    const noisy = await rt.createSession(toOnnx(buildEmbedGraph(spec, true)));
    const run = async (seed: number) => {
      const out = await noisy.run({
        ...base,
        ...weights,
        dropout_seed: rt.tensor('int32', Int32Array.from([seed]), [1]),
        neftune_scale: neftuneScale(rt, mb, alpha, D),
      });
      return (await rt.read(out.h)) as Float32Array;
    };
    const h0 = (await rt.read(clean)) as Float32Array;
    const a = await run(7);
    expect(await run(7)).toEqual(a); // reproducible with its seed
    const b = await run(8);
    let same = 0;
    for (let r = 0; r < 2; r++) {
      const len = rows[r].input_ids.length;
      const bound = alpha / Math.sqrt(len * D);
      let sumAbs = 0;
      let sumSq = 0;
      let maxAbs = 0;
      for (let t = 0; t < mb.T; t++)
        for (let k = 0; k < D; k++) {
          const i = (r * mb.T + t) * D + k;
          const d = a[i] - h0[i];
          if (t >= len) {
            expect(d).toBe(0); // padding gets no noise
            continue;
          }
          maxAbs = Math.max(maxAbs, Math.abs(d));
          sumAbs += Math.abs(d);
          sumSq += d * d;
          if (a[i] === b[i]) same++;
        }
      const n = len * D;
      expect(maxAbs).toBeLessThanOrEqual(bound * (1 + 1e-5));
      expect(maxAbs).toBeGreaterThan(bound * 0.95);
      expect(sumAbs / n / bound).toBeCloseTo(0.5, 1); // E|U(−1,1)| = 1/2
      expect(sumSq / n / bound ** 2).toBeCloseTo(1 / 3, 1); // E U² = 1/3
    }
    expect(same).toBeLessThan(5); // another seed, other noise
    // rows differ: the same position in the two rows gets different noise
    expect(a[0] - h0[0]).not.toBeCloseTo(a[mb.T * D] - h0[mb.T * D], 6);
    await device.dispose();
  });

  it('both plans train the same with NEFTune, and it changes the run', async () => {
    const { model, adapter, rows } = await goldenCase('qwen2');
    const run = async (plan: 'whole' | 'layerwise', neftuneAlpha: number) => {
      const config = resolveTrainConfig({
        rank: 4,
        alpha: 8,
        targets: 'all-linear',
        lr: 1e-2,
        steps: 2,
        batchSize: 2,
        gradAccum: 2,
        neftuneAlpha,
        dropout: 0.1,
        seed: 3,
      });
      const t = await Trainer.create({
        runtime: rt,
        model,
        config,
        train: rows,
        init: adapter.weights,
        plan,
      });
      const m = [await t.trainStep(), await t.trainStep()];
      await t.dispose();
      return m.map((x) => x.loss);
    };
    const whole = await run('whole', 5);
    const layerwise = await run('layerwise', 5);
    for (let s = 0; s < 2; s++) expect(Math.abs(layerwise[s] - whole[s]) / whole[s]).toBeLessThan(1e-5);
    const off = await run('whole', 0);
    expect(Math.abs(off[0] - whole[0])).toBeGreaterThan(1e-5);
  }, 120_000);
});
