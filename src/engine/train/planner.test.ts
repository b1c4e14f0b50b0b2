// The memory planner picks the fastest plan that fits, lowers storage and chunks only when needed, and refuses
// clearly when nothing fits (Qwen2.5-0.5B's real shapes; no weights are needed to plan).
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../model/config';
import { QWEN25_05B_CONFIG } from '../testing/random';
import { planMemory, predict, type PlanRequest } from './planner';

const MiB = 2 ** 20;
const qwen = parseConfig(QWEN25_05B_CONFIG);
const request = (over: Partial<PlanRequest>): PlanRequest => ({
  config: qwen,
  train: { batchSize: 4, maxLen: 512, rank: 16, targets: 'all-linear', packing: false },
  backend: 'cpu',
  f16: true,
  source16: true,
  budget: 64 * 1024 * MiB,
  ...over,
});

describe('memory planner', () => {
  it('takes the whole-model graph when it fits', () => {
    const p = planMemory(request({}));
    expect(p.plan).toBe('whole');
    expect(p.storage).toBe('float32');
    expect(p.peak).toBeLessThan(p.budget);
  });

  it('goes layer-wise with float16 layer weights for a 16-bit checkpoint under 3.5 GiB', () => {
    const p = planMemory(request({ budget: 3500 * MiB }));
    expect(p.plan).toBe('layerwise');
    expect(p.storage).toBe('float16');
    expect(p.peak).toBeLessThanOrEqual(3500 * MiB);
    expect(p.notes.join(' ')).toMatch(/whole-model step would need \d+ MiB/);
    // a float32 checkpoint keeps float32 weights when that fits
    expect(planMemory(request({ budget: 4096 * MiB, source16: false })).storage).toBe('float32');
  });

  it('runs fewer sequences through the layers at a time before refusing (4 × 512 under 3 GiB)', () => {
    expect(planMemory(request({ budget: 3500 * MiB })).rows).toBe(4);
    const p = planMemory(request({ budget: 3072 * MiB }));
    expect(p.plan).toBe('layerwise');
    expect(p.rows).toBeLessThan(4);
    expect(p.peak).toBeLessThanOrEqual(3072 * MiB);
    expect(p.notes.join(' ')).toMatch(/of the 4 sequences through the layers at a time/);
  });

  it('CPU sessions keep their memory between runs where the sum of their peaks fits, else hand it back', () => {
    expect(planMemory(request({})).reuseMemory).toBe(true);
    const roomy = planMemory(request({ force: 'layerwise' }));
    expect(roomy.reuseMemory).toBe(true);
    const kept = predict(request({}), 'layerwise', roomy.storage, roomy.ceChunk, roomy.rows, undefined, true);
    const handed = predict(
      request({}),
      'layerwise',
      roomy.storage,
      roomy.ceChunk,
      roomy.rows,
      undefined,
      false,
    );
    expect(kept.peak).toBeGreaterThan(handed.peak);
    const tight = planMemory(request({ budget: 2600 * MiB }));
    expect(tight.reuseMemory).toBe(false);
    expect(tight.notes.join(' ')).toMatch(
      /memory handed back after each run \(slower; keeping it would need \d+ MiB\)/,
    );
    // other backends have no such choice
    expect(planMemory(request({ backend: 'webgpu', force: 'layerwise' })).reuseMemory).toBe(false);
  });

  it('evaluation keeps no activations for a backward pass and no optimizer state', () => {
    const train = predict(request({}), 'whole', 'float32', 64);
    const ev = predict(request({ evaluate: true }), 'whole', 'float32', 64);
    expect(ev.breakdown.activations).toBeLessThan(train.breakdown.activations / 10);
    expect(ev.breakdown.lora).toBe(train.breakdown.lora / 7);
    expect(ev.breakdown.weights).toBe(train.breakdown.weights);
    expect(planMemory(request({ evaluate: true, budget: 3500 * MiB })).plan).toBe('whole');
  });

  it('layer-wise needs far less than the whole-model graph, and more with longer rows', () => {
    const whole = predict(request({}), 'whole', 'float32', 64);
    const lw = predict(request({}), 'layerwise', 'float32', 64);
    expect(lw.breakdown.activations).toBeLessThan(whole.breakdown.activations / 4);
    const long = predict(
      request({ train: { batchSize: 1, maxLen: 4096, rank: 16, targets: 'all-linear', packing: false } }),
      'layerwise',
      'float32',
      64,
    );
    expect(long.breakdown.activations).toBeGreaterThan(lw.breakdown.activations);
  });

  it('a forced plan is kept, and the refusal says what to lower', () => {
    expect(planMemory(request({ force: 'layerwise' })).plan).toBe('layerwise');
    expect(() => planMemory(request({ budget: 2500 * MiB, force: 'whole' }))).toThrow(
      /whole-model plan, over the memory budget of 2500 MiB; lower the batch size or the max length/,
    );
    expect(() => planMemory(request({ budget: 600 * MiB }))).toThrow(
      /the model alone does not fit: choose a smaller model/,
    );
    expect(() => planMemory(request({ budget: 10 * MiB }))).toThrow(
      /over the memory budget of 10 MiB; the runtime itself takes about \d+ MiB: raise the budget$/,
    );
  });

  it('runs attention in query blocks for 1 × 4096 under 3 GiB, and still refuses a budget nothing fits', () => {
    const long = { batchSize: 1, maxLen: 4096, rank: 16, targets: 'all-linear' as const, packing: false };
    const p = planMemory(request({ train: long, budget: 3072 * MiB }));
    expect(p.plan).toBe('layerwise');
    expect(p.queryBlock).toBeGreaterThan(0);
    expect(p.queryBlock).toBeLessThan(4096);
    expect(p.peak).toBeLessThanOrEqual(3072 * MiB);
    expect(p.notes.join(' ')).toMatch(/attention in blocks of \d+ queries/);
    // unblocked is kept where it fits (faster)
    expect(planMemory(request({ train: long, budget: 64 * 1024 * MiB })).queryBlock).toBeUndefined();
    expect(planMemory(request({ budget: 3072 * MiB })).queryBlock).toBeUndefined();
    const refuse = () => planMemory(request({ train: long, budget: 2200 * MiB }));
    expect(refuse).toThrow(
      /^a training step needs about \d+ MiB .* over the memory budget of 2200 MiB; lower the batch size or the max length$/,
    );
  });

  it('without float16 on the device (WebGPU without shader-f16) weights stay float32', () => {
    const p = planMemory(request({ backend: 'webgpu', f16: false, budget: 3500 * MiB }));
    expect(p.storage).toBe('float32');
    expect(p.plan).toBe('layerwise');
  });
});
