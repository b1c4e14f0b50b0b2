// The engine under GPU faults on a real WebGPU device (Dawn; SwiftShader where there is no GPU): a device lost
// mid-run (destroy(), as a GPU reset) fails every later call with DeviceLostError and a new runtime resumes the
// run from its checkpoint; chat works again after a loss (weights uploaded again); and the live bytes of GPU
// buffers return to their baseline after a training run, a failed session creation, ten adapter switches and a
// model reload (the counters wrap the device's createBuffer / destroy, gpu-counters.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Generator } from '../generate/generator';
import { Graph } from '../graph/ir';
import { toOnnx } from '../graph/onnx';
import type { Adapter } from '../io/peft';
import { DeviceModel } from '../model/device';
import type { LoadedModel } from '../model/weights';
import { goldenCase } from '../testing/golden_node';
import type { Example } from '../train/batches';
import { resolveTrainConfig } from '../train/config';
import { Trainer } from '../train/trainer';
import { gpuMemory } from './gpu-counters';
import { DeviceLostError, isDeviceLost } from './lost';
import { createNodeRuntime } from './node_node';
import type { Runtime } from './types';

let rt: Runtime;
let model: LoadedModel;
let adapter: Adapter;
let rows: Example[];
const open = () => createNodeRuntime({ backend: 'webgpu', threads: 2, strict: true });
const live = () => gpuMemory().live;
const config = resolveTrainConfig({
  rank: 4,
  alpha: 8,
  targets: 'all-linear',
  lr: 1e-2,
  batchSize: 2,
  steps: 4,
});
const prompts = [[1, 5, 9, 13, 17]];
const decode = { maxNewTokens: 3, stopIds: [] as number[] };

beforeAll(async () => {
  ({ model, adapter, rows } = await goldenCase('llama'));
  rt = await open();
}, 120_000);
afterAll(async () => {
  await rt?.release();
});

describe('GPU memory returns to its baseline', () => {
  it('after a finished training run', async () => {
    const run = async () => {
      const device = await DeviceModel.upload(rt, model);
      const t = await Trainer.create({ runtime: rt, model, device, config, train: rows });
      while (t.step < 2) await t.trainStep();
      await t.checkpoint();
      await t.adapter();
      await t.dispose();
      await device.dispose();
      await rt.idle(); // after the queued frees
    };
    const start = live();
    await run();
    // onnxruntime's WebGPU EP keeps a bounded cache of intermediate buffers per device (bucketed by size,
    // reused by the next run): the first run sets the baseline, every later run must come back to it
    const base = live();
    expect(base - start).toBeLessThan(2 ** 20);
    await run();
    expect(live()).toBe(base);
  }, 400_000);

  it('after a failed session creation', async () => {
    const base = live();
    const g = new Graph('falls back');
    const x = g.input('x', 'float32', [2, 3]);
    const w = g.constant(new Float32Array(6).fill(0.5), 'float32', [2, 3], 'w');
    // LogSoftmax has no WebGPU kernel: a strict session refuses it after placing the initializer
    g.output(
      g.node(
        'LogSoftmax',
        [g.node('Add', [x, w], {}, [{ dtype: 'float32', shape: [2, 3] }])[0]],
        { axis: 1 },
        [{ dtype: 'float32', shape: [2, 3] }],
      )[0],
      'y',
    );
    for (let i = 0; i < 3; i++) await expect(rt.createSession(toOnnx(g))).rejects.toThrow(/fallback|CPU/i);
    expect(live()).toBe(base);
  }, 120_000);

  it('after 10 adapter switches in chat', async () => {
    const chat = async () => {
      const device = await DeviceModel.upload(rt, model);
      const gen = new Generator(device);
      const sizes: number[] = [];
      for (let i = 0; i < 10; i++) {
        await gen.setAdapter(i % 3 === 2 ? null : { ...adapter.meta, weights: adapter.weights });
        await gen.generate(prompts, decode);
        await rt.idle();
        sizes.push(live());
      }
      // base, adapter, adapter, base…: each switch frees what the one before uploaded
      for (let i = 6; i < 10; i++) expect(sizes[i], `switch ${i + 1}`).toBe(sizes[i - 3]);
      await gen.dispose();
      await device.dispose();
      await rt.idle();
    };
    const start = live();
    await chat();
    const base = live(); // with onnxruntime's bounded buffer cache (see above)
    expect(base - start).toBeLessThan(2 ** 20);
    await chat();
    expect(live()).toBe(base);
  }, 300_000);

  it('after a model reload', async () => {
    const base = live();
    let device = await DeviceModel.upload(rt, model);
    await rt.idle();
    const loaded = live();
    for (let i = 0; i < 2; i++) {
      await device.dispose();
      device = await DeviceModel.upload(rt, model);
      await rt.idle();
      expect(live()).toBe(loaded);
    }
    await device.dispose();
    await rt.idle();
    expect(live()).toBe(base);
  }, 120_000);
});

describe('a lost device', () => {
  it('interrupts a training run, which resumes from its checkpoint on a new device', async () => {
    const gpu = await open();
    const t = await Trainer.create({ runtime: gpu, model, config, train: rows });
    await t.trainStep();
    const ckpt = await t.checkpoint();
    const reached = t.trainStep(); // in flight when the device goes
    gpu.loseDevice!();
    const info = await gpu.lost;
    expect(info.reason).toBe('destroyed');
    const err = await reached.then(() => t.trainStep()).catch((e: unknown) => e);
    expect(isDeviceLost(err)).toBe(true);
    expect(String(err)).toContain('the GPU was reset (device lost');
    await expect(gpu.upload('float32', new Float32Array(4), [4])).rejects.toThrow(DeviceLostError);
    await t.dispose().catch(() => undefined);
    await gpu.release();
    // the checkpoint lives on the host: a new device takes the run on from its step
    const again = await open();
    const r = await Trainer.create({ runtime: again, model, config, train: rows, resume: ckpt });
    expect(r.step).toBe(1);
    const m = await r.trainStep();
    expect(m.step).toBe(2);
    expect(Number.isFinite(m.loss)).toBe(true);
    await r.dispose();
    await again.release();
  }, 400_000);

  it('chat works again after a loss: the weights are uploaded to a new device', async () => {
    const gpu = await open();
    const device = await DeviceModel.upload(gpu, model);
    const gen = new Generator(device);
    await gen.setAdapter({ ...adapter.meta, weights: adapter.weights });
    const before = await gen.generate(prompts, decode);
    gpu.loseDevice!();
    await gpu.lost;
    await expect(gen.generate(prompts, decode)).rejects.toThrow(/device lost/);
    await gen.dispose().catch(() => undefined);
    await gpu.release();
    const fresh = await DeviceModel.upload(rt, model);
    const gen2 = new Generator(fresh);
    await gen2.setAdapter({ ...adapter.meta, weights: adapter.weights });
    expect((await gen2.generate(prompts, decode)).ids).toEqual(before.ids);
    await gen2.dispose();
    await fresh.dispose();
  }, 400_000);
});
