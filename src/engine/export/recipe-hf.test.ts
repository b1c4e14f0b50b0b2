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
    // the studio's default checkpoints (every 60 s of training) through the timed callback
    expect(files['train_trl.py']).toContain('CHECKPOINT_SECONDS = 60');
    for (const f of ['train_hf.py', 'train_trl.py']) {
      expect(files[f]).toContain('save_steps=10**12,');
      expect(files[f]).toContain('callbacks=[timed_checkpoints(TrainerCallback, CHECKPOINT_SECONDS)]');
    }
  });

  it.skipIf(!python)('asks for a checkpoint each time 60 s of training have passed since the last', () => {
    for (const [f, text] of Object.entries(files)) writeFileSync(join(dir, f), text);
    const script = [
      'import sys, json',
      `sys.path.insert(0, ${JSON.stringify(dir)})`,
      'import train_hf',
      'now = [0.0]',
      'class Base: pass',
      'class Control: should_save = False',
      'cb = train_hf.timed_checkpoints(Base, train_hf.CHECKPOINT_SECONDS, clock=lambda: now[0])',
      'c = Control(); cb.on_train_begin(None, None, c); saves = []',
      'for t in [10, 59.9, 60, 61, 119, 121]:',
      '    now[0] = t; c.should_save = False; cb.on_step_end(None, None, c); saves.append(c.should_save)',
      '    if c.should_save: cb.on_save(None, None, c)',
      'print(json.dumps(saves))',
    ].join('\n');
    const r = spawnSync(python!, ['-c', script], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual([false, false, true, false, false, true]);
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
