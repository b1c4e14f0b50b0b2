// Resumable training state beside the adapter: checkpoint/trainer_state.json (step, data order and
// cursor, RNG state, the dataset fingerprint, the config it was made with, and the name of its tensor
// file) and checkpoint/optimizer-<step>.safetensors (LoRA weights and AdamW moments). The state file is
// the commit record: the new tensor file is stored first under its own name, then trainer_state.json is
// renamed into place (one atomic rename), then older files are removed. A crash at any point leaves the
// previous checkpoint or the new one, whole, never the state of one step with the tensors of another.
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../engine/errors';
import { parseHeader, readFloat32, writeSafetensors } from '../engine/io/safetensors';
import type { LoraWeights } from '../engine/model/lora';
import type { TrainConfig } from '../engine/train/config';
import type { Checkpoint } from '../engine/train/trainer';
import { writeFilesAtomic } from './files';

const DIR = 'checkpoint';
const STATE = 'trainer_state.json';
/** The tensor file of checkpoints written before the state named its own. */
const LEGACY_TENSORS = 'optimizer.safetensors';

export function writeCheckpoint(out: string, cfg: TrainConfig, ck: Checkpoint): void {
  const tensors = storeCheckpointTensors(out, ck);
  commitCheckpoint(out, cfg, ck, tensors);
}

/** First half of a checkpoint: its tensors, under a name of their own (the current checkpoint stays). */
export function storeCheckpointTensors(out: string, ck: Checkpoint): string {
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
  const name = `optimizer-${ck.step}.safetensors`;
  writeFilesAtomic(join(out, DIR), { [name]: writeSafetensors(tensors) });
  return name;
}

/** Second half: switches trainer_state.json to the stored tensors, then removes what no state names. */
export function commitCheckpoint(out: string, cfg: TrainConfig, ck: Checkpoint, tensors: string): void {
  const state = {
    step: ck.step,
    epoch: ck.epoch,
    cursor: ck.cursor,
    order: ck.order,
    rng: ck.rng,
    data: ck.data,
    tensors,
    config: cfg,
  };
  const dir = join(out, DIR);
  writeFilesAtomic(dir, { [STATE]: JSON.stringify(state) + '\n' });
  // older tensor files and the temporary files of a write cut short
  for (const f of readdirSync(dir)) if (f !== STATE && f !== tensors) rmSync(join(dir, f), { force: true });
}

/** The checkpoint in an adapter folder, if it holds one that fits `cfg`'s shapes. */
export function readCheckpoint(dir: string, cfg: TrainConfig): Checkpoint | undefined {
  const stateFile = join(dir, DIR, STATE);
  if (!existsSync(stateFile)) return undefined;
  let state: {
    step: number;
    epoch: number;
    cursor: number;
    order: number[];
    rng: number[];
    data?: string;
    tensors?: string;
    config: TrainConfig;
  };
  try {
    state = JSON.parse(readFileSync(stateFile, 'utf8'));
  } catch {
    throw new UserError('invalid JSON', stateFile);
  }
  const tensors = state.tensors ?? LEGACY_TENSORS;
  if (!/^[\w.-]+\.safetensors$/.test(tensors))
    throw new UserError(`invalid tensor file name "${tensors}"`, stateFile);
  const tensorFile = join(dir, DIR, tensors);
  if (!existsSync(tensorFile))
    throw new UserError(
      `names ${tensors}, which is missing (delete ${join(dir, DIR)} to go on from the adapter with fresh optimizer state)`,
      stateFile,
    );
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

/**
 * The lines of `dir`/metrics.jsonl up to `step`: a run killed after its last checkpoint logged steps that
 * its resume trains again (and may have cut its last line short), so those go.
 */
export function metricsUpTo(dir: string, step: number): string {
  const file = join(dir, 'metrics.jsonl');
  if (!existsSync(file)) return '';
  const kept = readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => {
      try {
        const m = JSON.parse(line) as { step?: unknown };
        return typeof m.step === 'number' && m.step <= step;
      } catch {
        return false;
      }
    });
  return kept.map((l) => l + '\n').join('');
}
