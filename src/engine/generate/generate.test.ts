// Decoding with the KV cache equals a full forward pass without cache (logits to 1e-4) on llama, qwen2
// and qwen3, with two prompts of different lengths (left padding) and an adapter; float16 weight storage
// decodes as float32 weights rounded to float16.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toOnnx } from '../graph/onnx';
import { f16ArrayToF32, f32ArrayToF16 } from '../io/dtype';
import { readAdapter } from '../io/peft';
import { DeviceModel } from '../model/device';
import { NEG_INF } from '../model/llama';
import { createNodeRuntime } from '../runtime/node_node';
import type { Runtime } from '../runtime/types';
import { Generator } from './generator';
import { buildInferGraph, loraInput } from './graph';
import { loraSpecs, slotKey } from '../model/lora';
import { loraScale } from '../train/config';
import { maxRelErr } from '../testing/compare';
import { goldenCase } from '../testing/golden_node';

let rt: Runtime;
beforeAll(async () => {
  rt = await createNodeRuntime({ backend: 'cpu', threads: 2 });
});
afterAll(async () => rt?.release());

/** Logits of the last position of one sequence, by a full forward pass (no cache). */
async function fullLogits(
  dev: DeviceModel,
  ids: number[],
  adapter?: Awaited<ReturnType<typeof readAdapter>>,
) {
  const T = ids.length;
  const specs = adapter ? loraSpecs(dev.config, adapter.meta.targets) : [];
  const g = buildInferGraph({
    config: dev.config,
    weightShapes: dev.shapes,
    B: 1,
    L: T,
    S: 0,
    R: 1,
    lora: adapter ? { specs, rank: adapter.meta.rank } : undefined,
  });
  const s = await rt.createSession(toOnnx(g));
  const bias = new Float32Array(T * T).fill(NEG_INF);
  for (let q = 0; q < T; q++) for (let k = 0; k <= q; k++) bias[q * T + k] = 0;
  const rope = await dev.ropeTables(T);
  const feeds: Record<string, ReturnType<Runtime['tensor']>> = {
    input_ids: rt.tensor('int32', Int32Array.from(ids), [1, T]),
    position_ids: rt.tensor('int32', Int32Array.from(ids.keys()), [1, T]),
    rope_cos: rope.cos,
    rope_sin: rope.sin,
    attn_bias: rt.tensor('float32', bias, [1, 1, 1, T, T]),
    rows: rt.tensor('int32', Int32Array.from([T - 1]), [1]),
  };
  dev.feedWeights(feeds);
  if (adapter) {
    const scale = loraScale(adapter.meta);
    for (const sp of specs) {
      const k = slotKey(sp.layer, sp.module);
      feeds[loraInput(sp, 'A')] = rt.tensor('float32', adapter.weights.A.get(k)!, [sp.in, adapter.meta.rank]);
      feeds[loraInput(sp, 'B')] = rt.tensor(
        'float32',
        adapter.weights.B.get(k)!.map((x) => x * scale),
        [adapter.meta.rank, sp.out],
      );
    }
  }
  const out = await s.run(feeds);
  const r = (await rt.read(out.logits)) as Float32Array;
  await s.release();
  return r;
}

describe.each(['llama', 'qwen2', 'qwen3'])('KV-cache decode %s', (name) => {
  it('equals a full forward pass at every step', async () => {
    const { model, adapter } = await goldenCase(name);
    const dev = await DeviceModel.upload(rt, model);
    const gen = new Generator(dev);
    await gen.setAdapter({ ...adapter.meta, weights: adapter.weights });
    const prompts = [
      [1, 10, 20, 30, 40, 50, 60],
      [1, 7, 8],
    ];
    const V = model.config.vocab_size;
    const steps: Float32Array[] = [];
    const res = await gen.generate(prompts, {
      maxNewTokens: 6,
      stopIds: [],
      onLogits: (_, l) => steps.push(l.slice()),
    });
    expect(res.ids.map((r) => r.length)).toEqual([6, 6]);
    for (let b = 0; b < 2; b++) {
      for (let k = 0; k < steps.length; k++) {
        const ref = await fullLogits(dev, [...prompts[b], ...res.ids[b].slice(0, k)], adapter);
        const got = steps[k].subarray(b * V, (b + 1) * V);
        expect(maxRelErr(got, ref), `row ${b} step ${k}`).toBeLessThan(1e-4);
      }
    }
    // the base model (no adapter) needs no rebuild of anything but its own graph, and differs
    await gen.setAdapter(null);
    const base = await gen.generate([prompts[0]], {
      maxNewTokens: 1,
      stopIds: [],
      onLogits: (_, l) => steps.push(l.slice()),
    });
    expect(base.ids[0].length).toBe(1);
    const ref = await fullLogits(dev, prompts[0]);
    expect(Math.max(...steps.at(-1)!.map((x, i) => Math.abs(x - ref[i])))).toBeLessThan(1e-4);
    await gen.dispose();
    await dev.dispose();
  });
});

describe('context check', () => {
  it('counts the tokens of the longest prompt, not the left padding of its batch', async () => {
    const { model } = await goldenCase('llama');
    const short = { ...model, config: { ...model.config, max_position_embeddings: 24 } };
    const dev = await DeviceModel.upload(rt, short);
    const gen = new Generator(dev);
    const prompts = [
      [1, 10, 20, 30, 40, 50, 60],
      [1, 7, 8],
    ];
    // padded to 16 slots, + 10 new = 26 > 24; the longest row needs only 7 + 10 = 17 positions
    const res = await gen.generate(prompts, { maxNewTokens: 10, stopIds: [] });
    expect(res.ids.map((r) => r.length)).toEqual([10, 10]);
    await expect(gen.generate(prompts, { maxNewTokens: 18, stopIds: [] })).rejects.toThrow(
      "prompt + new tokens (25) exceed the model's context of 24",
    );
    await gen.dispose();
    await dev.dispose();
  });
});

describe('float16 weight storage', () => {
  it('decodes as the float32 model whose layer weights are rounded to float16', async () => {
    const { model } = await goldenCase('qwen2');
    const rounded = new Map(
      [...model.weights].map(([name, w]) => [
        name,
        name.startsWith('model.layers.') ? { ...w, data: f16ArrayToF32(f32ArrayToF16(w.data)) } : w,
      ]),
    );
    const run = async (m: typeof model, storage: 'float32' | 'float16') => {
      const dev = await DeviceModel.upload(rt, m, { storage });
      const gen = new Generator(dev);
      const logits: Float32Array[] = [];
      const res = await gen.generate([[1, 10, 20, 30]], {
        maxNewTokens: 4,
        stopIds: [],
        onLogits: (_, l) => logits.push(l.slice()),
      });
      await gen.dispose();
      await dev.dispose();
      return { ids: res.ids[0], logits };
    };
    const half = await run(model, 'float16');
    const ref = await run({ ...model, weights: rounded }, 'float32');
    expect(half.ids).toEqual(ref.ids);
    for (let k = 0; k < ref.logits.length; k++)
      expect(maxRelErr(half.logits[k], ref.logits[k])).toBeLessThan(1e-5);
  });
});
