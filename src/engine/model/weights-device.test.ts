// The device upload straight from the model's files (a stream of tensors, no host map): the same loss as
// the model loaded whole, with the vocabulary split on a small binding limit too, and the tensors given to
// the device are the ones read (no second host copy on the CPU backend).
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dirSource } from '../io/source_node';
import { createNodeRuntime } from '../runtime/node_node';
import type { Runtime } from '../runtime/types';
import { goldenCase, GOLDEN_DIR } from '../testing/golden_node';
import { resolveTrainConfig } from '../train/config';
import { Trainer } from '../train/trainer';
import { DeviceModel } from './device';
import { openModel } from './weights';

let rt: Runtime;
beforeAll(async () => {
  rt = await createNodeRuntime({ backend: 'cpu', threads: 2 });
});
afterAll(async () => rt?.release());

describe('DeviceModel.upload from a tensor stream', () => {
  it.each(['qwen2', 'llama_tied'])('%s: same eval loss as the model loaded whole', async (name) => {
    const { model, adapter, rows } = await goldenCase(name);
    const reader = await openModel(dirSource(join(GOLDEN_DIR, name, 'model')));
    const config = resolveTrainConfig({ rank: 4, alpha: 8, targets: 'all-linear', dropout: 0, steps: 1 });
    const lossOf = async (device: DeviceModel, m: typeof model | typeof reader) => {
      const t = await Trainer.create({
        runtime: rt,
        model: m,
        device,
        config,
        train: rows,
        init: adapter.weights,
      });
      const loss = await t.evaluate(rows);
      await t.dispose();
      await device.dispose();
      return loss;
    };
    const whole = await lossOf(await DeviceModel.upload(rt, model), model);
    const streamed = await lossOf(await DeviceModel.upload(rt, reader), reader);
    const split = await lossOf(await DeviceModel.upload(rt, reader, { maxTensorBytes: 4096 }), reader);
    expect(streamed).toEqual(whole);
    expect(split.loss).toBeCloseTo(whole.loss, 5);
  });

  it('hands each tensor read to the device without copying it on the CPU backend', async () => {
    const reader = await openModel(dirSource(join(GOLDEN_DIR, 'qwen2', 'model')));
    const read: Float32Array[] = [];
    const device = await DeviceModel.upload(rt, {
      config: reader.config,
      async *tensors() {
        for await (const [n, t] of reader.tensors()) {
          read.push(t.data);
          yield [n, t];
        }
      },
    });
    const feeds: Parameters<DeviceModel['feedWeights']>[0] = {};
    device.feedWeights(feeds);
    const onDevice = await Promise.all(Object.values(feeds).map((t) => rt.read(t)));
    expect(onDevice.length).toBe(reader.shapes.size);
    expect(onDevice.every((d, i) => d === read[i])).toBe(true);
    await device.dispose();
  });
});
