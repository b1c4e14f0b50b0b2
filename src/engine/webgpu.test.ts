// The same engine on WebGPU (onnxruntime-web's native WebGPU EP over Dawn; SwiftShader without a GPU)
// matches the CPU run: training steps with LoRA dropout (in-graph hash masks), gradient accumulation, and
// KV-cache generation. Sessions are strict: a node that would silently run on the CPU is an error.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Generator } from './generate/generator';
import { Graph } from './graph/ir';
import { toOnnx } from './graph/onnx';
import { dropoutMask } from './train/dropout';
import { DeviceModel } from './model/device';
import { createNodeRuntime } from './runtime/node_node';
import type { Runtime } from './runtime/types';
import { resolveTrainConfig } from './train/config';
import { Trainer } from './train/trainer';
import { maxRelErr } from './testing/compare';
import { goldenCase } from './testing/golden_node';

let cpu: Runtime;
let gpu: Runtime;
beforeAll(async () => {
  cpu = await createNodeRuntime({ backend: 'cpu', threads: 2 });
  gpu = await createNodeRuntime({ backend: 'webgpu', threads: 2, strict: true });
}, 120_000);
afterAll(async () => {
  await cpu?.release();
  await gpu?.release();
});

describe('WebGPU equals CPU', () => {
  it('reports a WebGPU adapter', () => {
    expect(gpu.info.backend).toBe('webgpu');
    expect(gpu.info.vendor ?? gpu.info.description ?? '').not.toBe('');
  });

  it('dropout masks are bit-identical (int32 hash: wrapping Mul/Add, truncating Div)', async () => {
    const g = new Graph();
    const x = g.input('x', 'float32', [64, 48]);
    const seed = g.input('seed', 'int32', [1]);
    g.output(dropoutMask(x, seed, 3, 0.3), 'mask');
    const bytes = toOnnx(g);
    const run = async (rt: Runtime) => {
      const s = await rt.createSession(bytes);
      const out = await s.run({
        x: rt.tensor('float32', new Float32Array(64 * 48), [64, 48]),
        seed: rt.tensor('int32', Int32Array.from([12345]), [1]),
      });
      const m = (await rt.read(out.mask)) as Float32Array;
      await s.release();
      return m;
    };
    expect(await run(gpu)).toEqual(await run(cpu));
  }, 120_000);

  it.each([
    ['whole', undefined],
    ['layerwise', undefined],
    ['layerwise', 4],
  ] as const)(
    'training steps, %s plan, attention in query blocks of %s (qwen3, dropout 0.1, grad accumulation 2, clipping, weight decay)',
    async (plan, queryBlock) => {
      const { model, adapter, rows } = await goldenCase('qwen3');
      const init = adapter.weights;
      const config = resolveTrainConfig({
        rank: 4,
        alpha: 8,
        targets: 'all-linear',
        lr: 1e-2,
        weightDecay: 0.1,
        maxGradNorm: 0.5,
        steps: 2,
        batchSize: 2,
        gradAccum: 2,
        dropout: 0.1,
        shuffle: true,
        seed: 3,
      });
      const run = async (rt: Runtime, p: 'whole' | 'layerwise', q?: number) => {
        const t = await Trainer.create({
          runtime: rt,
          model,
          config,
          train: rows,
          init,
          plan: p,
          queryBlock: q,
        });
        const metrics = [await t.trainStep(), await t.trainStep()];
        const w = await t.adapter();
        await t.dispose();
        return { metrics, w };
      };
      const a = await run(cpu, 'whole');
      const b = await run(gpu, plan, queryBlock);
      for (let s = 0; s < 2; s++) {
        expect(Math.abs(b.metrics[s].loss - a.metrics[s].loss) / a.metrics[s].loss).toBeLessThan(1e-4);
        expect(
          Math.abs(b.metrics[s].grad_norm - a.metrics[s].grad_norm) / a.metrics[s].grad_norm,
        ).toBeLessThan(1e-3);
      }
      for (const which of ['A', 'B'] as const) {
        for (const [k, v] of a.w[which])
          expect(maxRelErr(b.w[which].get(k)!, v), `${which} ${k}`).toBeLessThan(1e-3);
      }
    },
    300_000,
  );

  it.each(['llama', 'qwen2', 'qwen3'])(
    'KV-cache generation with an adapter (%s)',
    async (name) => {
      const { model, adapter } = await goldenCase(name);
      const run = async (rt: Runtime) => {
        const dev = await DeviceModel.upload(rt, model);
        const gen = new Generator(dev);
        await gen.setAdapter({ ...adapter.meta, weights: adapter.weights });
        const logits: Float32Array[] = [];
        const r = await gen.generate(
          [
            [1, 5, 9, 13, 17],
            [1, 2],
          ],
          {
            maxNewTokens: 4,
            stopIds: [],
            onLogits: (_, l) => logits.push(l.slice()),
          },
        );
        await gen.dispose();
        await dev.dispose();
        return { ids: r.ids, logits };
      };
      const a = await run(cpu);
      const b = await run(gpu);
      expect(b.ids).toEqual(a.ids);
      for (let k = 0; k < a.logits.length; k++)
        expect(maxRelErr(b.logits[k], a.logits[k])).toBeLessThan(1e-4);
    },
    300_000,
  );
});
