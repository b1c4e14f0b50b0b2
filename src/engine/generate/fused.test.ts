// The fused inference graphs (model/fused.ts: GroupQueryAttention over a cache updated in place) decode the
// same tokens as the training model's ops, logits to 1e-4, on onnxruntime-node (CPU) and under strict WebGPU
// (Node + Dawn, SwiftShader here) for qwen2 (biases) and qwen3 (q/k norms), two prompts of different lengths,
// with and without an adapter (llama's head_dim 12 is outside GQA's: both sides unfused); a kept cache reused by
// the next generation, two generations at once, and onnxruntime-web's wasm (no aliasing: a new cache each run)
// give the same; and fewer GPU kernels are dispatched per decoded token.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeviceModel } from '../model/device';
import { dispatches } from '../runtime/gpu-counters';
import { createNodeRuntime } from '../runtime/node_node';
import type { Runtime } from '../runtime/types';
import { maxRelErr } from '../testing/compare';
import { goldenCase } from '../testing/golden_node';
import { Generator } from './generator';

const prompts = [
  [1, 10, 20, 30, 40, 50, 60],
  [1, 7, 8],
];

async function decode(gen: Generator, n: number) {
  const logits: Float32Array[] = [];
  let d0 = 0;
  const res = await gen.generate(prompts, {
    maxNewTokens: n,
    stopIds: [],
    onLogits: (step, l) => {
      logits.push(l.slice());
      if (step === 0) d0 = dispatches();
    },
  });
  return { ids: res.ids, logits, dispatchesPerToken: (dispatches() - d0) / (n - 1) };
}

async function compare(rt: Runtime, name: string, withAdapter: boolean) {
  const { model, adapter } = await goldenCase(name);
  const dev = await DeviceModel.upload(rt, model);
  const plain = new Generator(dev, { fused: false });
  const fused = new Generator(dev, { fused: true });
  if (withAdapter)
    for (const g of [plain, fused]) await g.setAdapter({ ...adapter.meta, weights: adapter.weights });
  const want = await decode(plain, 5);
  const got = await decode(fused, 5);
  expect(got.ids).toEqual(want.ids);
  for (let k = 0; k < want.logits.length; k++)
    expect(maxRelErr(got.logits[k], want.logits[k])).toBeLessThan(1e-4);
  await plain.dispose();
  await fused.dispose();
  await dev.dispose();
  return { plain: want.dispatchesPerToken, fused: got.dispatchesPerToken };
}

describe('fused inference graphs on the CPU', () => {
  let rt: Runtime;
  beforeAll(async () => {
    rt = await createNodeRuntime({ backend: 'cpu', threads: 2 });
  });
  afterAll(async () => rt?.release());
  for (const name of ['llama', 'qwen2', 'qwen3'])
    for (const withAdapter of [false, true])
      it(`${name}${withAdapter ? ' with an adapter' : ''}: same tokens and logits`, async () => {
        await compare(rt, name, withAdapter);
      });
});

describe('the in-place cache', () => {
  it('kept for the next generation, beside a concurrent one, and on wasm (rewritten each run): same tokens and logits', async () => {
    const cpu = await createNodeRuntime({ backend: 'cpu', threads: 2 });
    const wasm = await createNodeRuntime({ backend: 'wasm', threads: 2 });
    const { model, adapter } = await goldenCase('qwen2');
    const run = async (rt: Runtime, gen?: Generator) => {
      const dev = gen?.device ?? (await DeviceModel.upload(rt, model));
      const g = gen ?? new Generator(dev);
      if (!gen) await g.setAdapter({ ...adapter.meta, weights: adapter.weights });
      return { g, ...(await decode(g, 5)) };
    };
    const first = await run(cpu);
    const again = await run(cpu, first.g); // the same (B, S): the kept cache, its slots from the first run
    // two generations at once: one uses the kept cache, the other a fresh one
    const [x, y] = await Promise.all([run(cpu, first.g), run(cpu, first.g)]);
    const onWasm = await run(wasm);
    for (const got of [again, x, y, onWasm]) {
      expect(got.ids).toEqual(first.ids);
      for (let k = 0; k < first.logits.length; k++)
        expect(maxRelErr(got.logits[k], first.logits[k])).toBeLessThan(1e-5);
    }
    for (const r of [first, onWasm]) {
      await r.g.dispose();
      await r.g.device.dispose();
    }
    await cpu.release();
    await wasm.release();
  }, 60_000);
});

describe('fused inference graphs under strict WebGPU', () => {
  let gpu: Runtime;
  beforeAll(async () => {
    gpu = await createNodeRuntime({ backend: 'webgpu', threads: 2, strict: true });
  }, 120_000);
  afterAll(async () => gpu?.release());
  for (const name of ['qwen3', 'qwen2'])
    it(`${name} with an adapter: same tokens and logits, fewer dispatches per token`, async () => {
      const d = await compare(gpu, name, true);
      console.log(`${name}: dispatches per decoded token ${d.plain} → ${d.fused}`);
      expect(d.fused).toBeLessThan(d.plain / 1.8);
    }, 600_000);
});
