// The PyTorch golden fixtures (tests/fixtures/golden, written by tools/golden.py) as tests use them: a case's
// model, its initial adapter and its pre-tokenized rows.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readAdapter, type Adapter } from '../io/peft';
import { dirSource } from '../io/source_node';
import { loadModel, type LoadedModel } from '../model/weights';
import type { Example } from '../train/batches';

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
