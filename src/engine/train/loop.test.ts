// The shared training loop on the CPU backend: a run cut off after a time-based checkpoint and resumed from
// it ends with the same adapter bytes as a run never cut off; a checkpoint refuses changed data; a NaN step
// from an absurd learning rate is not applied and the run pauses at its last good step, checkpointed.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dirSource } from '../io/source_node';
import type { LoraWeights } from '../model/lora';
import { loadModel, type LoadedModel } from '../model/weights';
import { createNodeRuntime } from '../runtime/node_node';
import type { Runtime } from '../runtime/types';
import { GOLDEN_DIR, goldenRows } from '../testing/golden_node';
import type { Example } from './batches';
import { resolveTrainConfig, type TrainConfig } from './config';
import { datasetFingerprint, splitValidation } from './data-split';
import { runTrainingLoop, type LoopHooks } from './loop';
import { Trainer, type Checkpoint } from './trainer';

let rt: Runtime;
let model: LoadedModel;
const rows = goldenRows('llama_tied');
beforeAll(async () => {
  rt = await createNodeRuntime({ backend: 'cpu', threads: 2 });
  model = await loadModel(dirSource(join(GOLDEN_DIR, 'llama_tied', 'model')));
});
afterAll(async () => rt?.release());

const bytes = (w: LoraWeights) =>
  [...w.A, ...w.B].map(([k, v]) => [k, Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex')]);

/** Trains `examples` with `config` through the loop; a fake clock moves one second per step. */
async function run(
  config: TrainConfig,
  examples: Example[],
  opts: { resume?: Checkpoint; hooks?: Partial<LoopHooks>; plan?: 'whole' | 'layerwise' } = {},
) {
  let clock = 0;
  const saved: Checkpoint[] = [];
  const { train, val } = splitValidation(examples, config.valSplit, config.seed);
  const trainer = await Trainer.create({
    runtime: rt,
    model,
    config,
    train,
    resume: opts.resume,
    plan: opts.plan,
  });
  try {
    const result = await runTrainingLoop(trainer, {
      config,
      val,
      fingerprint: datasetFingerprint(examples),
      resume: opts.resume,
      hooks: {
        now: () => clock,
        onCheckpoint: async (ck) => void saved.push(ck),
        ...opts.hooks,
        onStep: async (m, v) => {
          clock += 1000;
          await opts.hooks?.onStep?.(m, v);
        },
      },
    });
    return { result, saved, adapter: await trainer.adapter() };
  } finally {
    await trainer.dispose();
  }
}

const base = { rank: 4, alpha: 8, targets: 'all-linear' as const, batchSize: 2, dropout: 0.1, seed: 3 };

describe('training loop', () => {
  it('resumes from a time-based checkpoint to the same adapter bytes as an uninterrupted run', async () => {
    const config = resolveTrainConfig({ ...base, lr: 1e-2, steps: 6, checkpointSeconds: 2, valSplit: 0.25 });
    const full = await run(config, rows);
    expect(full.result).toMatchObject({ status: 'done', step: 6 });
    expect(full.saved.map((c) => c.step)).toEqual([2, 4, 6]); // every 2 s of the fake clock, none by steps

    // the process dies during step 5: what is kept is the checkpoint of step 4
    const crash = new Error('the tab was closed');
    const cutSaved: Checkpoint[] = [];
    const cut = await run(config, rows, {
      hooks: {
        onCheckpoint: async (ck) => void cutSaved.push(ck),
        onStep: (m) => {
          if (m.step === 5) throw crash;
        },
      },
    }).catch((e: unknown) => e);
    expect(cut).toBe(crash);
    const kept = cutSaved.at(-1)!;
    expect(kept.step).toBe(4);
    expect(kept.data).toBe(datasetFingerprint(rows));

    const resumed = await run(config, rows, { resume: kept });
    expect(resumed.result).toMatchObject({ status: 'done', step: 6 });
    expect(bytes(resumed.adapter)).toEqual(bytes(full.adapter));
  });

  it('refuses to resume a checkpoint on a changed dataset, and saves nothing', async () => {
    const config = resolveTrainConfig({
      ...base,
      lr: 1e-2,
      steps: 2,
      checkpointEvery: 1,
      checkpointSeconds: 0,
    });
    const first = await run(config, rows);
    expect(first.saved.map((c) => c.step)).toEqual([1, 2]);
    const edited = rows.map((e, i) => (i === 1 ? { ...e, labels: [...e.labels.slice(0, -1), 3] } : e));
    let written = 0;
    const again = run(resolveTrainConfig({ ...config, steps: 4 }), edited, {
      resume: first.saved[1],
      hooks: { onCheckpoint: async () => void written++ },
    });
    await expect(again).rejects.toThrow(
      'the dataset changed since the checkpoint of step 2 was saved: resume with the data it was trained on, or start a new run',
    );
    expect(written).toBe(0);
    // the original rows resume
    const ok = await run(resolveTrainConfig({ ...config, steps: 4 }), rows, { resume: first.saved[1] });
    expect(ok.result).toMatchObject({ status: 'done', step: 4 });
  });

  it.each(['whole', 'layerwise'] as const)(
    '%s plan: a NaN step from lr 1e30 is not applied; the run pauses at the last good step, checkpointed',
    async (plan) => {
      const config = resolveTrainConfig({ ...base, dropout: 0, lr: 1e30, steps: 5, maxGradNorm: 0 });
      const adapters: LoraWeights[] = [];
      const saved: Checkpoint[] = [];
      const trainer = await Trainer.create({ runtime: rt, model, config, train: rows, plan });
      const result = await runTrainingLoop(trainer, {
        config,
        val: [],
        fingerprint: datasetFingerprint(rows),
        hooks: {
          onStep: async () => void adapters.push(await trainer.adapter()),
          onCheckpoint: async (ck) => void saved.push(ck),
        },
      });
      const after = await trainer.adapter();
      await trainer.dispose();
      expect(result.status).toBe('paused');
      const good = adapters.length;
      expect(good).toBeGreaterThanOrEqual(1);
      expect(result.step).toBe(good);
      expect(result.message).toMatch(
        new RegExp(
          `^step ${good + 1}: the (loss|gradient norm) was (NaN|-?Infinity), so its update was not applied; ` +
            `the run is paused at step ${good}, its last good state\\. Try a lower learning rate`,
        ),
      );
      expect(saved.map((c) => c.step)).toEqual([good]);
      expect(bytes(saved[0].lora)).toEqual(bytes(adapters[good - 1]));
      expect(bytes(after)).toEqual(bytes(adapters[good - 1]));
      for (const w of [saved[0].m, saved[0].v])
        for (const x of [...w.A.values(), ...w.B.values()]) expect(x.every(Number.isFinite)).toBe(true);
    },
  );
});
