// Attention in query blocks (layerwise-blocked.ts) gives the whole-model plan's numbers: losses, grad norms,
// gradients, evaluation and adapters after steps with LoRA dropout, GQA (4 heads over 2 KV heads), Llama 3
// rope scaling, Qwen2 q/k/v biases and Qwen3 q/k norms — rows of 16 tokens in blocks of 5 (5, 5, 5, 1), packed
// rows of 32 in blocks of 8, with row blocks, and the head run one cross-entropy chunk of rows at a time.
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

const run = (
  name: string,
  plan: PlanKind,
  config: TrainConfig,
  queryBlock?: number,
  rowsPerRun?: number,
  ceChunk?: number,
) => trainGoldenCase(rt, name, config, { plan, queryBlock, rowsPerRun, ceChunk }, true);

const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);

describe('query-blocked layer-wise plan equals the whole-model plan', () => {
  it.each([
    ['llama', false, 5, undefined, undefined],
    ['qwen2', true, 8, undefined, 8],
    ['qwen3', false, 5, 1, 8],
  ] as const)(
    '%s, packing %s, query blocks of %i, rows per run %s, head runs of %s labelled rows',
    async (name, packing, Q, rows, ceChunk) => {
      const config = resolveTrainConfig({
        rank: 4,
        alpha: 8,
        targets: 'all-linear',
        lr: 1e-2,
        maxGradNorm: 0.5,
        steps: 2,
        batchSize: 2,
        dropout: 0.1,
        packing,
        maxLen: packing ? 32 : 64,
        seed: 5,
      });
      const a = await run(name, 'whole', config);
      const b = await run(name, 'layerwise', config, Q, rows, ceChunk);
      for (let s = 0; s < config.steps; s++) {
        expect(b.metrics[s].tokens).toBe(a.metrics[s].tokens);
        expect(rel(b.metrics[s].loss, a.metrics[s].loss)).toBeLessThan(1e-5);
        expect(rel(b.metrics[s].grad_norm, a.metrics[s].grad_norm)).toBeLessThan(1e-5);
      }
      expect(rel(b.evalLoss.loss, a.evalLoss.loss)).toBeLessThan(1e-5);
      for (const which of ['A', 'B'] as const) {
        for (const [k, v] of a.grads![which])
          expect(maxRelErr(b.grads![which].get(k)!, v), `grad ${k}`).toBeLessThan(1e-5);
        // after AdamW (its normalised step turns last-digit gradient differences into lr-sized ones): as
        // layerwise.test.ts
        for (const [k, v] of a.w.lora[which])
          expect(maxRelErr(b.w.lora[which].get(k)!, v), k).toBeLessThan(1e-4);
      }
    },
    60_000,
  );
});
