// `npm run bench:plans`: steady training-step time of the layer-wise plan against the whole-model graph, and of
// the WASM backend against onnxruntime-node's CPU backend, on the same SmolLM2-135M-shaped model, batch and
// LoRA settings, in one process (ratios, not absolute times: the machine may be shared).
//   npx tsx tools/bench-plans.ts [--batch 4 --seq 128 --steps 3 --warmup 2 --rank 8 --no-wasm]
import os from 'node:os';
import { parseArgs } from 'node:util';
import { parseConfig } from '../src/engine/model/config';
import type { BaseModel } from '../src/engine/model/device';
import { expectedWeights } from '../src/engine/model/weights';
import { createNodeRuntime } from '../src/engine/runtime/node_node';
import type { Runtime } from '../src/engine/runtime/types';
import type { Example } from '../src/engine/train/batches';
import { resolveTrainConfig } from '../src/engine/train/config';
import type { PlanKind } from '../src/engine/train/plan';
import { planMemory } from '../src/engine/train/planner';
import { Trainer } from '../src/engine/train/trainer';
import { mulberry32, SMOLLM2_135M_CONFIG } from '../src/engine/testing/random';

const { values: opt } = parseArgs({
  options: {
    batch: { type: 'string', default: '4' },
    seq: { type: 'string', default: '128' },
    steps: { type: 'string', default: '3' },
    warmup: { type: 'string', default: '2' },
    rank: { type: 'string', default: '8' },
    'no-wasm': { type: 'boolean', default: false },
  },
});
const B = Number(opt.batch);
const T = Number(opt.seq);

const config = parseConfig(SMOLLM2_135M_CONFIG);
const rand = mulberry32(1);
const weights = new Map<string, { shape: number[]; data: Float32Array }>();
for (const [name, shape] of expectedWeights(config)) {
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  const std = name.endsWith('norm.weight') ? 0 : 0.02;
  for (let i = 0; i < data.length; i++) data[i] = std ? (rand() * 2 - 1) * std * 1.7 : 1;
  weights.set(name, { shape, data });
}
const model: BaseModel = { config, weights };
const rows: Example[] = Array.from({ length: B }, () => {
  const ids = Array.from({ length: T }, () => Math.floor(rand() * config.vocab_size));
  return { input_ids: ids, labels: ids };
});
const train = resolveTrainConfig({
  rank: Number(opt.rank),
  alpha: 2 * Number(opt.rank),
  targets: 'all-linear',
  batchSize: B,
  maxLen: T,
  dropout: 0,
  steps: 100,
  shuffle: false,
});

/** Mean time of `steps` training steps after `warmup` ones (ms), and the losses. The plan's settings are the
 *  planner's under the CLI's default budget (most of the machine's memory), as `train --plan X` would run. */
async function stepTime(rt: Runtime, plan: PlanKind) {
  const p = planMemory({
    config,
    train,
    backend: rt.info.backend,
    f16: true,
    source16: false,
    budget: Math.floor(os.totalmem() * 0.85),
    force: plan,
  });
  const t = await Trainer.create({
    runtime: rt,
    model,
    config: train,
    train: rows,
    plan,
    storage: p.storage,
    ceChunk: p.ceChunk,
    rowsPerRun: p.rows,
    queryBlock: p.queryBlock,
    reuseMemory: p.reuseMemory,
  });
  const warm: number[] = [];
  for (let s = 0; s < Number(opt.warmup); s++) warm.push((await t.trainStep()).ms);
  const times: number[] = [];
  for (let s = 0; s < Number(opt.steps); s++) times.push((await t.trainStep()).ms);
  await t.dispose();
  return { mean: times.reduce((a, b) => a + b, 0) / times.length, warm };
}

const fmt = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const cpu = await createNodeRuntime({ backend: 'cpu' });
const whole = await stepTime(cpu, 'whole');
const layerwise = await stepTime(cpu, 'layerwise');
await cpu.release();
const out: Record<string, unknown> = {
  config: `SmolLM2-135M shapes, ${B} × ${T} tokens, r${opt.rank} all-linear`,
  cpu_whole_step_ms: whole.mean,
  cpu_layerwise_step_ms: layerwise.mean,
  layerwise_over_whole: layerwise.mean / whole.mean,
};
process.stdout.write(
  `${out.config}\ncpu whole-model step ${fmt(whole.mean)}, layer-wise step ${fmt(layerwise.mean)}: ` +
    `layer-wise / whole = ${(layerwise.mean / whole.mean).toFixed(2)}\n`,
);
if (!opt['no-wasm']) {
  const wasm = await createNodeRuntime({ backend: 'wasm' });
  for (const plan of ['whole', 'layerwise'] as const) {
    const w = await stepTime(wasm, plan);
    const ref = plan === 'whole' ? whole.mean : layerwise.mean;
    out[`wasm_${plan}_step_ms`] = w.mean;
    out[`wasm_${plan}_warmup_ms`] = w.warm;
    out[`wasm_over_cpu_${plan}`] = w.mean / ref;
    process.stdout.write(
      `wasm ${plan} step ${fmt(w.mean)} (first steps ${w.warm.map(fmt).join(', ')}): wasm / cpu = ${(w.mean / ref).toFixed(2)}\n`,
    );
  }
  await wasm.release();
}
process.stdout.write(JSON.stringify(out) + '\n');
