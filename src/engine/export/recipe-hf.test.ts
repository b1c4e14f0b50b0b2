// train_hf.py (transformers Trainer + PEFT, no TRL): valid Python that loads without TRL or transformers,
// takes the data preparation from train_trl.py, pads batches as the studio masks them, and carries the run's
// LoRA and optimizer settings.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseDatasetStrict } from '../../data/formats';
import { resolveTrainConfig } from '../train/config';
import { clusterRecipe } from './recipes';

// Debian's python3 has torch (pad_batch builds tensors); the pyenv one may not.
const python = ['/usr/bin/python3'].find(
  (p) => spawnSync(p, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0,
);
const dir = mkdtempSync(join(tmpdir(), 'lora-recipe-hf-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const files = clusterRecipe({
  baseModel: 'acme/tiny',
  train: resolveTrainConfig({ rank: 4, alpha: 8, lr: 3e-4, steps: 5, targets: 'all-linear', shuffle: false }),
  rows: parseDatasetStrict(JSON.stringify({ text: 'hello' }), 'd.jsonl'),
  modelType: 'llama',
});

describe('train_hf.py', () => {
  it('carries the run settings and no TRL', () => {
    const py = files['train_hf.py'];
    expect(py).toContain('r=4,');
    expect(py).toContain('lora_alpha=8,');
    expect(py).toContain('target_modules="all-linear",');
    expect(py).toContain('learning_rate=0.0003,');
    expect(py).toContain('max_steps=5,');
    expect(py).not.toMatch(/^\s*(from|import) trl/m);
    expect(files['README.md']).toContain('python train_hf.py');
  });

  it.skipIf(!python)('loads without TRL and pads a batch with masked labels', () => {
    for (const [f, text] of Object.entries(files)) writeFileSync(join(dir, f), text);
    const script = [
      'import sys, json',
      `sys.path.insert(0, ${JSON.stringify(dir)})`,
      'import train_hf',
      'b = train_hf.pad_batch([{"input_ids": [5, 6, 7], "labels": [-100, 6, 7]}, {"input_ids": [8], "labels": [8]}], 0)',
      'print(json.dumps({k: v.tolist() for k, v in b.items()} | {"shuffle": train_hf.SHUFFLE}))',
    ].join('\n');
    const r = spawnSync(python!, ['-c', script], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({
      input_ids: [
        [5, 6, 7],
        [8, 0, 0],
      ],
      labels: [
        [-100, 6, 7],
        [8, -100, -100],
      ],
      attention_mask: [
        [1, 1, 1],
        [1, 0, 0],
      ],
      shuffle: false,
    });
  });
});
