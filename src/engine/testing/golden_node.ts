// The PyTorch golden fixtures (tests/fixtures/golden, written by tools/golden.py) as tests use them: a case's
// model, its initial adapter and its pre-tokenized rows; and a case trained under a given plan (the plan tests).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readAdapter, type Adapter } from '../io/peft';
import { dirSource } from '../io/source_node';
import { loadModel, type LoadedModel } from '../model/weights';
import type { Runtime } from '../runtime/types';
import type { Example } from '../train/batches';
import type { TrainConfig } from '../train/config';
import { Trainer, type TrainerInit } from '../train/trainer';

export const GOLDEN_DIR = join(__dirname, '../../../tests/fixtures/golden');

export function goldenRows(name: string): Example[] {
  return readFileSync(join(GOLDEN_DIR, name, 'data.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Example);
}

export async function goldenCase(
  name: string,
): Promise<{ model: LoadedModel; adapter: Adapter; rows: Example[] }> {
  const model = await loadModel(dirSource(join(GOLDEN_DIR, name, 'model')));
  const adapter = await readAdapter(dirSource(join(GOLDEN_DIR, name, 'adapter_init')), model.config);
  return { model, adapter, rows: goldenRows(name) };
}

/**
 * A golden case trained from its initial adapter for `config.steps` steps under `plan`: the plan it ran, the
 * gradient of all rows at the start (with `gradients`), the step metrics, the eval loss and the final state.
 */
export async function trainGoldenCase(
  runtime: Runtime,
  name: string,
  config: TrainConfig,
  plan: Pick<TrainerInit, 'plan' | 'rowsPerRun' | 'queryBlock' | 'ceChunk' | 'reuseMemory'>,
  gradients = false,
) {
  const { model, adapter, rows } = await goldenCase(name);
  const t = await Trainer.create({ runtime, model, config, train: rows, init: adapter.weights, ...plan });
  const planKind = t.planKind;
  const grads = gradients ? await t.gradients(rows) : undefined;
  const metrics = [];
  for (let s = 0; s < config.steps; s++) metrics.push(await t.trainStep());
  const evalLoss = await t.evaluate(rows);
  const w = await t.checkpoint();
  await t.dispose();
  return { planKind, grads, metrics, evalLoss, w };
}
