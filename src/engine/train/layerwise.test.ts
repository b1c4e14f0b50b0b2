// The layer-wise plan gives the whole-model plan's numbers: losses, grad norms, evaluation and adapters after
// steps with LoRA dropout (the hash salted by the layer given as an input), packing, gradient accumulation,
// rsLoRA, clipping, weight decay and a warmup schedule, on every architecture and on a subset of targets.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNodeRuntime } from '../runtime/node_node';
import type { Runtime } from '../runtime/types';
import { maxRelErr } from '../testing/compare';
import { trainGoldenCase } from '../testing/golden_node';
import { resolveTrainConfig, type TrainConfig } from './config';
import type { PlanKind } from './plan';

let rt: Runtime;
beforeAll(async () => {
  rt = await createNodeRuntime({ backend: 'cpu', threads: 2 });
});
afterAll(async () => rt?.release());

async function run(
  name: string,
  plan: PlanKind,
  config: TrainConfig,
  rowsPerRun?: number,
  reuseMemory?: boolean,
) {
  const r = await trainGoldenCase(rt, name, config, { plan, rowsPerRun, reuseMemory });
  expect(r.planKind).toBe(plan);
  return r;
}

describe('layer-wise plan equals the whole-model plan', () => {
  it.each([
    ['llama', 'all-linear', false],
    ['qwen2', 'all-linear', true],
    ['qwen3', ['q_proj', 'v_proj'], true],
  ] as const)(
    '%s, targets %s, packing %s (sessions keeping their memory between runs with packing)',
    async (name, targets, packing) => {
      const config = resolveTrainConfig({
        rank: 4,
        alpha: 8,
        rslora: name === 'qwen2',
        targets: targets === 'all-linear' ? targets : [...targets],
        lr: 1e-2,
        weightDecay: 0.1,
        maxGradNorm: 0.5,
        schedule: 'cosine',
        warmup: 1,
        steps: 3,
        batchSize: 2,
        gradAccum: 2,
        dropout: 0.1,
        packing,
        maxLen: 64,
        shuffle: true,
        seed: 5,
      });
      const a = await run(name, 'whole', config);
      const b = await run(name, 'layerwise', config, undefined, packing);
      for (let s = 0; s < config.steps; s++) {
        expect(b.metrics[s].tokens).toBe(a.metrics[s].tokens);
        expect(Math.abs(b.metrics[s].loss - a.metrics[s].loss) / a.metrics[s].loss).toBeLessThan(1e-5);
        expect(
          Math.abs(b.metrics[s].grad_norm - a.metrics[s].grad_norm) / a.metrics[s].grad_norm,
        ).toBeLessThan(1e-5);
      }
      expect(Math.abs(b.evalLoss.loss - a.evalLoss.loss) / a.evalLoss.loss).toBeLessThan(1e-5);
      for (const part of ['lora', 'm', 'v'] as const)
        for (const which of ['A', 'B'] as const)
          for (const [k, v] of a.w[part][which])
            expect(maxRelErr(b.w[part][which].get(k)!, v), `${part} ${which} ${k}`).toBeLessThan(1e-4);
    },
    120_000,
  );

  it('rows in blocks (one of 2 rows, one of 1) give the same numbers, dropout and NEFTune included', async () => {
    const config = resolveTrainConfig({
      rank: 4,
      alpha: 8,
      targets: 'all-linear',
      lr: 1e-2,
      steps: 2,
      batchSize: 3,
      dropout: 0.1,
      neftuneAlpha: 5,
      maxLen: 64,
      seed: 5,
    });
    const a = await run('qwen2', 'whole', config);
    const b = await run('qwen2', 'layerwise', config, 2);
    for (let s = 0; s < config.steps; s++) {
      expect(b.metrics[s].tokens).toBe(a.metrics[s].tokens);
      expect(Math.abs(b.metrics[s].loss - a.metrics[s].loss) / a.metrics[s].loss).toBeLessThan(1e-5);
      expect(Math.abs(b.metrics[s].grad_norm - a.metrics[s].grad_norm) / a.metrics[s].grad_norm).toBeLessThan(
        1e-5,
      );
    }
    for (const which of ['A', 'B'] as const)
      for (const [k, v] of a.w.lora[which])
        expect(maxRelErr(b.w.lora[which].get(k)!, v), k).toBeLessThan(1e-4);
  }, 120_000);

  it('dropout changes the run (the masks are applied in both passes)', async () => {
    const base = {
      rank: 4,
      alpha: 8,
      targets: 'all-linear' as const,
      lr: 1e-2,
      steps: 2,
      batchSize: 2,
      seed: 5,
    };
    const a = await run('qwen3', 'layerwise', resolveTrainConfig({ ...base, dropout: 0 }));
    const b = await run('qwen3', 'layerwise', resolveTrainConfig({ ...base, dropout: 0.3 }));
    expect(Math.abs(b.metrics[1].loss - a.metrics[1].loss)).toBeGreaterThan(1e-4);
  }, 120_000);
});
