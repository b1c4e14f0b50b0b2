// The CLI's checkpoint folder under a crash in the middle of a write: the state file is the commit record,
// so a cut-off write leaves the previous checkpoint whole (never one step's state with another's tensors),
// the next write clears what was left behind, and a folder from before tensor files were named still reads.
import { mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { LoraWeights } from '../engine/model/lora';
import { resolveTrainConfig } from '../engine/train/config';
import type { Checkpoint } from '../engine/train/trainer';
import { commitCheckpoint, readCheckpoint, storeCheckpointTensors, writeCheckpoint } from './checkpoint';

const cfg = resolveTrainConfig({ rank: 2 });
const weights = (x: number): LoraWeights => ({
  A: new Map([['0.q_proj', Float32Array.of(x, x + 1)]]),
  B: new Map([['0.q_proj', Float32Array.of(x + 2)]]),
});
const checkpointAt = (step: number): Checkpoint => ({
  step,
  epoch: 0,
  cursor: step * 2,
  order: [2, 0, 1],
  rng: [step, 7],
  data: 'fp',
  lora: weights(step),
  m: weights(step / 10),
  v: weights(step / 100),
});
const plain = (ck: Checkpoint | undefined) =>
  ck &&
  JSON.parse(JSON.stringify(ck, (_, v) => (v instanceof Map ? [...v].map(([k, a]) => [k, [...a]]) : v)));

describe('CLI checkpoint folder', () => {
  it('a write cut off after the new tensors keeps the previous checkpoint whole; the next write tidies up', () => {
    const out = mkdtempSync(join(tmpdir(), 'lora-ck-'));
    writeCheckpoint(out, cfg, checkpointAt(2));
    // the process dies after storing step 4's tensors, before the state switches to them,
    // and while a temporary file of another write was still open
    storeCheckpointTensors(out, checkpointAt(4));
    writeFileSync(join(out, 'checkpoint', 'trainer_state.json.tmp-99999'), '{"step":');
    expect(plain(readCheckpoint(out, cfg))).toEqual(plain(checkpointAt(2)));

    writeCheckpoint(out, cfg, checkpointAt(6));
    expect(plain(readCheckpoint(out, cfg))).toEqual(plain(checkpointAt(6)));
    expect(readdirSync(join(out, 'checkpoint')).sort()).toEqual([
      'optimizer-6.safetensors',
      'trainer_state.json',
    ]);
    rmSync(out, { recursive: true });
  });

  it('reads a folder whose state names no tensor file (optimizer.safetensors); a missing file is one clear error', () => {
    const out = mkdtempSync(join(tmpdir(), 'lora-ck-'));
    const dir = join(out, 'checkpoint');
    const name = storeCheckpointTensors(out, checkpointAt(3));
    commitCheckpoint(out, cfg, checkpointAt(3), name);
    const state = JSON.parse(readFileSync(join(dir, 'trainer_state.json'), 'utf8'));
    delete state.tensors;
    writeFileSync(join(dir, 'trainer_state.json'), JSON.stringify(state));
    renameSync(join(dir, name), join(dir, 'optimizer.safetensors'));
    expect(plain(readCheckpoint(out, cfg))).toEqual(plain(checkpointAt(3)));

    rmSync(join(dir, 'optimizer.safetensors'));
    expect(() => readCheckpoint(out, cfg)).toThrow(
      `${join(dir, 'trainer_state.json')}: names optimizer.safetensors, which is missing (delete ${dir} to go on ` +
        'from the adapter with fresh optimizer state)',
    );
    rmSync(out, { recursive: true });
  });
});
