// Resumable training state beside the adapter: checkpoint/trainer_state.json (step, data order and
// cursor, RNG state, the dataset fingerprint, the config it was made with) and
// checkpoint/optimizer.safetensors (LoRA weights and AdamW moments), written atomically.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../engine/errors';
import { parseHeader, readFloat32, writeSafetensors } from '../engine/io/safetensors';
import type { LoraWeights } from '../engine/model/lora';
import type { TrainConfig } from '../engine/train/config';
import type { Checkpoint } from '../engine/train/trainer';
import { writeFilesAtomic } from './files';

const DIR = 'checkpoint';

export function writeCheckpoint(out: string, cfg: TrainConfig, ck: Checkpoint): void {
  const tensors: Record<string, { dtype: 'F32'; shape: number[]; data: Float32Array }> = {};
  for (const [prefix, w] of [
    ['lora', ck.lora],
    ['m', ck.m],
    ['v', ck.v],
  ] as const) {
    for (const which of ['A', 'B'] as const) {
      for (const [k, data] of w[which])
        tensors[`${prefix}.${k}.${which}`] = { dtype: 'F32', shape: [data.length], data };
    }
  }
  const state = {
    step: ck.step,
    epoch: ck.epoch,
    cursor: ck.cursor,
    order: ck.order,
    rng: ck.rng,
    data: ck.data,
    config: cfg,
  };
  writeFilesAtomic(join(out, DIR), {
    'optimizer.safetensors': writeSafetensors(tensors),
    'trainer_state.json': JSON.stringify(state) + '\n',
  });
}

/** The checkpoint in an adapter folder, if it holds one that fits `cfg`'s shapes. */
export function readCheckpoint(dir: string, cfg: TrainConfig): Checkpoint | undefined {
  const stateFile = join(dir, DIR, 'trainer_state.json');
  const tensorFile = join(dir, DIR, 'optimizer.safetensors');
  if (!existsSync(stateFile) || !existsSync(tensorFile)) return undefined;
  let state: {
    step: number;
    epoch: number;
    cursor: number;
    order: number[];
    rng: number[];
    data?: string;
    config: TrainConfig;
  };
  try {
    state = JSON.parse(readFileSync(stateFile, 'utf8'));
  } catch {
    throw new UserError('invalid JSON', stateFile);
  }
  if (state.config?.rank !== cfg.rank)
    throw new UserError(`checkpoint rank ${state.config?.rank} differs from the adapter's`, stateFile);
  const bytes = new Uint8Array(readFileSync(tensorFile));
  const h = parseHeader(bytes, tensorFile);
  const pick = (prefix: string): LoraWeights => {
    const w: LoraWeights = { A: new Map(), B: new Map() };
    for (const [name, e] of h.entries) {
      const m = /^(\w+)\.(\d+\.\w+)\.([AB])$/.exec(name);
      if (m && m[1] === prefix) w[m[3] as 'A' | 'B'].set(m[2], readFloat32(bytes, e, tensorFile, name));
    }
    return w;
  };
  return {
    step: state.step,
    epoch: state.epoch,
    cursor: state.cursor,
    order: state.order,
    rng: state.rng,
    data: state.data,
    lora: pick('lora'),
    m: pick('m'),
    v: pick('v'),
  };
}
