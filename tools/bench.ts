// `npm run bench`: LoRA training and greedy decoding speed of our engine on a SmolLM2-135M-shaped model
// with random weights, next to PyTorch CPU on the same shapes, batch and LoRA config in the same command
// (tools/bench_torch.py), as DESIGN §4 asks: a ratio against a reference run, not a timed test.
// Usage: npm run bench -- [--layers 30] [--batch 2] [--seq 128] [--steps 3] [--new-tokens 32]
//        [--prompt 16] [--backend cpu|wasm|webgpu] [--threads N] [--no-torch]
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Generator } from '../src/engine/generate/generator';
import { parseConfig } from '../src/engine/model/config';
import { DeviceModel, type BaseModel } from '../src/engine/model/device';
import { expectedWeights } from '../src/engine/model/weights';
import { createNodeRuntime } from '../src/engine/runtime/node_node';
import type { Example } from '../src/engine/train/batches';
import { resolveTrainConfig } from '../src/engine/train/config';
import { Trainer } from '../src/engine/train/trainer';
import { mulberry32, SMOLLM2_135M_CONFIG } from '../src/engine/testing/random';

const LORA = { rank: 8, alpha: 16, targets: ['q_proj', 'v_proj'] };

const { values: opt } = parseArgs({
  options: {
    layers: { type: 'string', default: '30' },
    batch: { type: 'string', default: '2' },
    seq: { type: 'string', default: '128' },
    steps: { type: 'string', default: '3' },
    'new-tokens': { type: 'string', default: '32' },
    prompt: { type: 'string', default: '16' },
    backend: { type: 'string', default: 'cpu' },
    threads: { type: 'string', default: String(os.availableParallelism()) },
    'no-torch': { type: 'boolean', default: false },
  },
});
const int = (k: keyof typeof opt, min = 1): number => {
  const v = Number(opt[k]);
  if (!Number.isInteger(v) || v < min) throw new Error(`--${k} must be an integer >= ${min}`);
  return v;
};
const args = {
  layers: int('layers'),
  batch: int('batch'),
  seq: int('seq', 2),
  steps: int('steps'),
  newTokens: int('new-tokens', 2),
  prompt: int('prompt'),
  threads: int('threads'),
  backend: opt.backend as 'cpu' | 'wasm' | 'webgpu',
};
if (!['cpu', 'wasm', 'webgpu'].includes(args.backend))
  throw new Error('--backend must be cpu, wasm or webgpu');

/** Random base model: projections and embeddings ~N(0, 0.02) (Box–Muller), norm weights 1. */
function randomModel(layers: number): BaseModel {
  const config = parseConfig({ ...SMOLLM2_135M_CONFIG, num_hidden_layers: layers }, 'bench config');
  const rand = mulberry32(1234);
  const weights: BaseModel['weights'] = new Map();
  for (const [name, shape] of expectedWeights(config)) {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    if (name.endsWith('norm.weight')) data.fill(1);
    else
      for (let i = 0; i < data.length; i += 2) {
        const r = 0.02 * Math.sqrt(-2 * Math.log(1 - rand()));
        const th = 2 * Math.PI * rand();
        data[i] = r * Math.cos(th);
        if (i + 1 < data.length) data[i + 1] = r * Math.sin(th);
      }
    weights.set(name, { shape, data });
  }
  return { config, weights };
}

const now = () => performance.now();
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

interface Ours {
  train_tokens_per_s: number;
  train_step_ms: number;
  train_step_ms_each: number[];
  train_first_step_ms: number;
  train_losses: number[];
  prefill_ms: number;
  decode_tokens_per_s: number;
  decode_ms_per_token: number;
  first_generation_ms: number;
  upload_ms: number;
  rss_mb: number;
}

async function benchOurs(): Promise<Ours> {
  const model = randomModel(args.layers);
  const V = model.config.vocab_size;
  const rand = mulberry32(99);
  const runtime = await createNodeRuntime({ backend: args.backend, threads: args.threads });
  const t0 = now();
  const device = await DeviceModel.upload(runtime, model);
  const upload_ms = now() - t0;

  // Train: full rows of `seq` random tokens, all trained; one row set per step, no dropout (torch has none).
  const rows: Example[] = Array.from({ length: args.batch * (args.steps + 1) }, () => {
    const ids = Array.from({ length: args.seq }, () => Math.floor(rand() * V));
    return { input_ids: ids, labels: ids };
  });
  const config = resolveTrainConfig({
    ...LORA,
    dropout: 0,
    batchSize: args.batch,
    maxLen: args.seq,
    steps: args.steps + 1,
    shuffle: false,
  });
  const trainer = await Trainer.create({ runtime, model, device, config, train: rows });
  const steps = [];
  for (let i = 0; i <= args.steps; i++) steps.push(await trainer.trainStep());
  await trainer.dispose();
  const stepMs = steps.slice(1).map((s) => s.ms);

  // Decode: batch 1, greedy; one warm-up generation builds the prefill and decode sessions.
  const gen = new Generator(device);
  const prompt = Array.from({ length: args.prompt }, () => Math.floor(rand() * V));
  const g0 = now();
  await gen.generate([prompt], { maxNewTokens: args.newTokens, stopIds: [] });
  const first_generation_ms = now() - g0;
  let tFirst = 0;
  const s0 = now();
  const res = await gen.generate([prompt], {
    maxNewTokens: args.newTokens,
    stopIds: [],
    onToken: () => void (tFirst ||= now()),
  });
  const decodeMs = now() - tFirst;
  // The first new token comes from the prefill run; the other n − 1 from one decode run each.
  const decoded = res.ids[0].length - 1;
  const rss_mb = process.memoryUsage().rss / 2 ** 20;
  await gen.dispose();
  await device.dispose();
  await runtime.release();

  const step = mean(stepMs);
  return {
    train_tokens_per_s: (args.batch * args.seq * 1000) / step,
    train_step_ms: step,
    train_step_ms_each: stepMs,
    train_first_step_ms: steps[0].ms,
    train_losses: steps.map((s) => s.loss),
    prefill_ms: tFirst - s0,
    decode_tokens_per_s: (decoded * 1000) / decodeMs,
    decode_ms_per_token: decodeMs / decoded,
    first_generation_ms,
    upload_ms,
    rss_mb,
  };
}

type Torch = Record<string, number | string | number[]>;

function benchTorch(): Torch | string {
  const py = '/usr/bin/python3';
  const probe = spawnSync(py, ['-c', 'import torch'], { stdio: 'ignore' });
  if (probe.error || probe.status !== 0) return `${py} has no torch`;
  const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'bench_torch.py');
  const r = spawnSync(
    py,
    [
      script,
      '--json',
      ...['--layers', args.layers, '--batch', args.batch, '--seq', args.seq, '--steps', args.steps],
      ...['--new-tokens', args.newTokens, '--prompt', args.prompt, '--threads', args.threads],
      ...['--rank', LORA.rank, '--alpha', LORA.alpha, '--targets', LORA.targets.join(',')],
    ].map(String),
    { encoding: 'utf8', maxBuffer: 1 << 24 },
  );
  if (r.status !== 0) return `bench_torch.py failed: ${(r.stderr || String(r.error)).trim().slice(-500)}`;
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Torch;
}

const fmt = (x: unknown) =>
  typeof x === 'number' ? (Math.abs(x) >= 100 ? x.toFixed(0) : x.toPrecision(3)) : String(x ?? '-');

async function main() {
  const w = `${args.layers} layers, batch ${args.batch} × seq ${args.seq}, LoRA r${LORA.rank} α${LORA.alpha} on ${LORA.targets.join('+')}`;
  console.log(`SmolLM2-135M shape (random weights), ${w}`);
  // Others' work on the box skews both sides (torch's more): the 1-minute load average is printed with it.
  const load = os.loadavg()[0];
  console.log(
    `backend ${args.backend}, ${args.threads} threads, ${os.cpus()[0]?.model}, nproc ${os.cpus().length}, ` +
      `load ${load.toFixed(2)}`,
  );
  const t0 = now();
  const ours = await benchOurs();
  const oursS = (now() - t0) / 1000;
  const t1 = now();
  const torch = opt['no-torch'] ? 'not asked for (--no-torch)' : benchTorch();
  const torchS = (now() - t1) / 1000;
  const ref = typeof torch === 'string' ? null : torch;
  if (!ref) console.log(`PyTorch reference skipped: ${torch}`);

  const rows: [string, keyof Ours][] = [
    ['train tokens/s', 'train_tokens_per_s'],
    ['train step ms', 'train_step_ms'],
    ['first step ms (build)', 'train_first_step_ms'],
    ['decode tokens/s', 'decode_tokens_per_s'],
    ['decode ms/token', 'decode_ms_per_token'],
    ['prefill ms', 'prefill_ms'],
  ];
  console.log(
    `\n${'metric'.padEnd(24)}${'ours'.padStart(10)}${'pytorch'.padStart(10)}${'ours/pt'.padStart(10)}`,
  );
  for (const [label, k] of rows) {
    const a = ours[k] as number;
    const b = ref?.[k] as number | undefined;
    const ratio = b ? fmt(a / b) : '-';
    console.log(`${label.padEnd(24)}${fmt(a).padStart(10)}${fmt(b).padStart(10)}${ratio.padStart(10)}`);
  }
  console.log(
    `ours: upload ${fmt(ours.upload_ms)} ms, first generation (builds sessions) ${fmt(ours.first_generation_ms)} ms, ` +
      `steps ${ours.train_step_ms_each.map(fmt).join('/')} ms, rss ${fmt(ours.rss_mb)} MB; wall ${fmt(oursS)} s` +
      (ref ? `; pytorch ${ref.torch_version}, blas ${ref.blas}, wall ${fmt(torchS)} s` : ''),
  );
  console.log(
    JSON.stringify({
      model: 'SmolLM2-135M-shape',
      ...args,
      lora: LORA,
      cpu: os.cpus()[0]?.model,
      nproc: os.cpus().length,
      load_before: load,
      load_after: os.loadavg()[0],
      ours,
      torch: ref ?? { skipped: torch },
      ratio: ref
        ? {
            train: ours.train_tokens_per_s / (ref.train_tokens_per_s as number),
            decode: ours.decode_tokens_per_s / (ref.decode_tokens_per_s as number),
          }
        : null,
    }),
  );
}

await main();
