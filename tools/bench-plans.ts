// `npm run bench:plans`: steady training-step time of the layer-wise plan against the whole-model graph, and of
// the WASM backend against onnxruntime-node's CPU backend, on the same SmolLM2-135M-shaped model, batch and
// LoRA settings, in one process, steps of the two sides in turn (ratios, not absolute times: the machine may be shared).
//   npx tsx tools/bench-plans.ts [--batch 4 --seq 128 --steps 5 --warmup 2 --rank 8 --no-wasm]
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
import { mean, median } from './stats';
import { Trainer } from '../src/engine/train/trainer';
import { mulberry32, SMOLLM2_135M_CONFIG } from '../src/engine/testing/random';

const { values: opt } = parseArgs({
  options: {
    batch: { type: 'string', default: '4' },
    seq: { type: 'string', default: '128' },
    steps: { type: 'string', default: '5' },
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

/** A trainer for `plan` after `warmup` steps, with the planner's settings under the CLI's default budget (most
 *  of the machine's memory), as `train --plan X` would run it. */
async function warmTrainer(rt: Runtime, plan: PlanKind) {
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
  return { t, warm };
}

/** `steps` steps of a and of b in turn (each pair sees the same machine): mean step times and the median of
 *  the pairs' b / a. Measured: CPU steps taken in turn with WASM ones run ~20-45 % slower than in turn with CPU
 *  ones (2.3-2.6 s against 3.1-3.4 s, also with a 1 s pause between steps), which flatters WASM / CPU. */
async function paired(a: Trainer, b: Trainer) {
  const ta: number[] = [];
  const tb: number[] = [];
  for (let s = 0; s < Number(opt.steps); s++) {
    ta.push((await a.trainStep()).ms);
    tb.push((await b.trainStep()).ms);
  }
  return { a: mean(ta), b: mean(tb), ratio: median(tb.map((x, i) => x / ta[i])) };
}

const fmt = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const cpu = await createNodeRuntime({ backend: 'cpu' });
const whole = await warmTrainer(cpu, 'whole');
const layerwise = await warmTrainer(cpu, 'layerwise');
const lw = await paired(whole.t, layerwise.t);
const out: Record<string, unknown> = {
  config: `SmolLM2-135M shapes, ${B} × ${T} tokens, r${opt.rank} all-linear`,
  cpu_whole_step_ms: lw.a,
  cpu_layerwise_step_ms: lw.b,
  layerwise_over_whole: lw.ratio,
};
process.stdout.write(
  `${out.config}; steps in turn, ratios the median of the pairs'\ncpu whole-model step ${fmt(lw.a)}, ` +
    `layer-wise step ${fmt(lw.b)}: layer-wise / whole = ${lw.ratio.toFixed(2)}\n`,
);
if (!opt['no-wasm']) {
  const wasm = await createNodeRuntime({ backend: 'wasm' });
  for (const [plan, ref] of [
    ['whole', whole.t],
    ['layerwise', layerwise.t],
  ] as const) {
    const w = await warmTrainer(wasm, plan);
    const r = await paired(ref, w.t);
    await w.t.dispose();
    out[`wasm_${plan}_step_ms`] = r.b;
    out[`wasm_${plan}_warmup_ms`] = w.warm;
    out[`wasm_over_cpu_${plan}`] = r.ratio;
    process.stdout.write(
      `wasm ${plan} step ${fmt(r.b)} (first steps ${w.warm.map(fmt).join(', ')}), cpu ${fmt(r.a)}: wasm / cpu = ${r.ratio.toFixed(2)}\n`,
    );
  }
  await wasm.release();
}
await whole.t.dispose();
await layerwise.t.dispose();
await cpu.release();
process.stdout.write(JSON.stringify(out) + '\n');
