// A fresh adapter on a tiny model drives the training loss of a few rows close to zero (memorisation),
// on each architecture. The tiny random models have small embeddings, so the final norm's weight is
// scaled up to give the logits a realistic range (a real model's head can reach confident predictions).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dirSource } from '../io/source_node';
import { loadModel } from '../model/weights';
import { createNodeRuntime } from '../runtime/node_node';
import type { Runtime } from '../runtime/types';
import { resolveTrainConfig } from './config';
import { Trainer } from './trainer';
import { GOLDEN_DIR, goldenRows } from '../testing/golden_node';
import { join } from 'node:path';

let rt: Runtime;
beforeAll(async () => {
  rt = await createNodeRuntime({ backend: 'cpu', threads: 2 });
});
afterAll(async () => rt?.release());

describe.each(['llama_tied', 'qwen2', 'qwen3'])('memorisation %s', (name) => {
  it('drives the training loss close to zero', async () => {
    const model = await loadModel(dirSource(join(GOLDEN_DIR, name, 'model')));
    const norm = model.weights.get('model.norm.weight')!;
    norm.data = norm.data.map((x) => x * 40);
    const rows = goldenRows(name);
    const config = resolveTrainConfig({
      rank: 8,
      alpha: 16,
      targets: 'all-linear',
      lr: 3e-3,
      steps: 80,
      batchSize: 4,
      dropout: 0,
      seed: 1,
    });
    const t = await Trainer.create({ runtime: rt, model, config, train: rows });
    const first = await t.trainStep();
    let last = first;
    while (t.step < t.totalSteps) last = await t.trainStep();
    await t.dispose();
    expect(first.loss).toBeGreaterThan(5);
    expect(last.loss).toBeLessThan(0.05);
  });
});
