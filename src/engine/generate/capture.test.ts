// Graph-captured decoding on WebGPU (Dawn; SwiftShader without a GPU) gives the same tokens and logits as
// decoding without capture, for two prompts of different lengths with an adapter, twice in a row (the captured
// graph is replayed with new inputs); the weights and the in-place KV cache are bound without copies (GPU
// memory grows by far less than the weights), a re-uploaded adapter is re-captured, not replayed stale, and a
// concurrent generation's runs between the captured ones change nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeviceModel } from '../model/device';
import { dispatches, gpuMemory, resetPeak } from '../runtime/gpu-counters';
import { createNodeRuntime } from '../runtime/node_node';
import type { Runtime } from '../runtime/types';
import { maxRelErr } from '../testing/compare';
import { goldenCase } from '../testing/golden_node';
import { Generator } from './generator';

let gpu: Runtime;
beforeAll(async () => {
  gpu = await createNodeRuntime({ backend: 'webgpu', threads: 2, strict: true });
}, 120_000);
afterAll(async () => gpu?.release());

describe('graph-captured decode', () => {
  it('gives the same tokens as decoding without capture', async () => {
    const { model, adapter } = await goldenCase('qwen2'); // head_dim 16: the fused graphs (GroupQueryAttention)
    const dev = await DeviceModel.upload(gpu, model);
    const weightBytes = [...model.weights.values()].reduce((a, w) => a + 4 * w.data.length, 0);
    const prompts = [
      [1, 10, 20, 30, 40, 50, 60],
      [1, 7, 8],
    ];
    const decode = async (gen: Generator, ps: number[][]) => {
      const logits: Float32Array[] = [];
      const res = await gen.generate(ps, {
        maxNewTokens: 5,
        stopIds: [],
        onLogits: (_, l) => logits.push(l.slice()),
      });
      return { ids: res.ids, logits };
    };
    const plain = new Generator(dev);
    const captured = new Generator(dev, { graphCapture: true });
    const useAdapter = (g: Generator) => g.setAdapter({ ...adapter.meta, weights: adapter.weights });
    for (const g of [plain, captured]) await useAdapter(g);
    const want = await decode(plain, prompts);
    await gpu.idle();
    const before = gpuMemory().live;
    resetPeak();
    const got = await decode(captured, prompts);
    const grew = gpuMemory().peak - before;
    console.log(`captured decode: GPU peak − live before = ${grew} bytes; weights ${weightBytes} bytes`);
    expect(grew).toBeLessThan(weightBytes / 2); // weights bound, not copied into slots
    expect(got.ids).toEqual(want.ids);
    for (let k = 0; k < want.logits.length; k++)
      expect(maxRelErr(got.logits[k], want.logits[k])).toBeLessThan(1e-5);
    // the adapter uploaded again (new buffers): re-captured, and replayed with other inputs
    await useAdapter(captured);
    const other = [
      [1, 99, 98, 97],
      [1, 5, 6, 7],
    ];
    expect((await decode(captured, other)).ids).toEqual((await decode(plain, other)).ids);
    // other GPU work between the captured runs (a concurrent generation registers and releases its buffers)
    const [both, beside] = await Promise.all([decode(captured, other), decode(plain, prompts)]);
    expect(both.ids).toEqual((await decode(plain, other)).ids);
    expect(beside.ids).toEqual(want.ids);
    await plain.dispose();
    await captured.dispose();
    await dev.dispose();
    expect(dispatches()).toBeGreaterThan(0);
  }, 600_000);
});
