// `npm run bench`: LoRA training and decoding speed of our engine on a SmolLM2-135M- or Qwen2.5-0.5B-shaped
// model with random weights, next to PyTorch on the same shapes, batch and LoRA config in the same command
// (tools/bench_torch.py), as DESIGN §4 asks: a ratio against a reference run, not a timed test. Options: bench.md.
// Usage: npm run bench -- [--shape smollm2-135m|qwen2.5-0.5b] [--layers N] [--batch 2] [--seq 128] [--steps 3]
//        [--rank 8 --targets q_proj,v_proj|all-linear] [--new-tokens 32] [--prompt 16] [--decode-batch 1,2]
//        [--sample] [--backend cpu|wasm|webgpu] [--storage auto|float32|float16] [--threads N] [--peak-tflops X]
//        [--plan whole|layerwise] [--graph-capture] [--no-fused] [--compare-fused] [--no-train] [--no-torch]
//        [--profile]  (instead of the timings: per-op GPU time and dispatches of one step / one token, tools/profile.ts)
//        [--llamacpp]  (also llama.cpp's CPU greedy decode of the same model and prompt, tools/bench-llamacpp.ts)
import os from 'node:os';
import { parseArgs } from 'node:util';
import { Generator } from '../src/engine/generate/generator';
import type { SamplingOptions } from '../src/engine/generate/sampling';
import { parseConfig } from '../src/engine/model/config';
import { DeviceModel, type BaseModel } from '../src/engine/model/device';
import { expectedWeights } from '../src/engine/model/weights';
import { createNodeRuntime } from '../src/engine/runtime/node_node';
import type { Example } from '../src/engine/train/batches';
import { resolveTrainConfig } from '../src/engine/train/config';
import { Trainer } from '../src/engine/train/trainer';
import { dispatches, gpuMemory, resetPeak } from '../src/engine/runtime/gpu-counters';
import { mulberry32, QWEN25_05B_CONFIG, SMOLLM2_135M_CONFIG } from '../src/engine/testing/random';
import { profileSessions, type PhaseProfile } from './profile';
import { mean, median } from './stats';
import { benchTorch, startTorchTrainer, torchMissing, type TorchTrainer } from './bench-torch';

const SHAPES: Record<string, { name: string; config: Record<string, unknown> }> = {
  'smollm2-135m': { name: 'SmolLM2-135M', config: SMOLLM2_135M_CONFIG },
  'qwen2.5-0.5b': { name: 'Qwen2.5-0.5B', config: QWEN25_05B_CONFIG },
};

const { values: opt } = parseArgs({
  options: {
    shape: { type: 'string', default: 'smollm2-135m' },
    layers: { type: 'string' },
    rank: { type: 'string', default: '8' },
    targets: { type: 'string', default: 'q_proj,v_proj' },
    'decode-batch': { type: 'string', default: '1' },
    sample: { type: 'boolean', default: false },
    'peak-tflops': { type: 'string' },
    'no-train': { type: 'boolean', default: false },
    storage: { type: 'string', default: 'auto' },
    plan: { type: 'string' },
    'graph-capture': { type: 'boolean', default: false },
    'no-fused': { type: 'boolean', default: false },
    'compare-fused': { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
    batch: { type: 'string', default: '2' },
    seq: { type: 'string', default: '128' },
    steps: { type: 'string', default: '5' },
    'new-tokens': { type: 'string', default: '32' },
    prompt: { type: 'string', default: '16' },
    backend: { type: 'string', default: 'cpu' },
    threads: { type: 'string', default: String(os.availableParallelism()) },
    'no-torch': { type: 'boolean', default: false },
    llamacpp: { type: 'boolean', default: false },
  },
});
const shape = SHAPES[opt.shape!];
if (!shape) throw new Error(`--shape must be one of ${Object.keys(SHAPES).join(', ')}`);
opt.layers ??= String(shape.config.num_hidden_layers);
const LORA = {
  rank: Number(opt.rank),
  alpha: 2 * Number(opt.rank),
  targets:
    opt.targets === 'all-linear'
      ? ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj']
      : opt.targets!.split(','),
};
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
  decodeBatches: opt['decode-batch']!.split(',').map(Number),
  peakTflops: opt['peak-tflops'] ? Number(opt['peak-tflops']) : undefined,
};
if (args.decodeBatches.some((b) => !Number.isInteger(b) || b < 1))
  throw new Error('--decode-batch must be a comma-separated list of batch sizes');
if (!['cpu', 'wasm', 'webgpu'].includes(args.backend))
  throw new Error('--backend must be cpu, wasm or webgpu');

/** Random base model: projections and embeddings ~N(0, 0.02) (Box–Muller), norm weights 1. */
function randomModel(layers: number): BaseModel {
  const config = parseConfig({ ...shape.config, num_hidden_layers: layers }, 'bench config');
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
/** The PyTorch train server (CPU runs) and its steps, interleaved with ours in benchTrain. */
let torchTrain: TorchTrainer | undefined;
const torchSteps: { ms: number; loss: number }[] = [];

/** One decode measurement: `batch` rows side by side, greedy unless `sampling` is given. */
interface Decode {
  batch: number;
  sampling: string;
  prefill_ms: number;
  /** new tokens of all rows per second, after the first (prefill) token */
  tokens_per_s: number;
  ms_per_token: number;
  dispatches_per_token?: number;
  gpu_peak_mb?: number;
  /** graph capture / unfused graphs: the same tokens as the first batch-1 greedy decode */
  same_tokens?: boolean;
  /** inference graphs from fused onnxruntime ops (model/fused.ts) */
  fused?: boolean;
  /** the first row's new token ids */
  ids?: number[];
}

interface Ours {
  train_tokens_per_s?: number;
  train_step_ms?: number;
  train_step_ms_each?: number[];
  train_first_step_ms?: number;
  train_losses?: number[];
  /** estimated FLOPs of one trained token (see flopsPerToken) */
  train_flops_per_token?: number;
  /** model FLOPs utilisation against --peak-tflops */
  mfu?: number;
  dispatches_per_step?: number;
  train_gpu_peak_mb?: number;
  train_plan?: string;
  prefill_ms: number;
  decode_tokens_per_s: number;
  decode_ms_per_token: number;
  decode: Decode[];
  /** batch 1 greedy new token ids (compared with llama.cpp's) */
  decode_ids?: number[];
  /** sampled (temperature 0.7, top-p 0.9) ms/token over greedy ms/token, batch 1 */
  sample_over_greedy?: number;
  first_generation_ms: number;
  upload_ms: number;
  /** dtype of the base weights on the device */
  storage: string;
  rss_mb: number;
  gpu_live_mb_after_upload?: number;
}

const MB = 2 ** 20;
const gpu = () => args.backend === 'webgpu';
/** Lines the GPU runner keeps when a run is cut off: `BENCH_PARTIAL {json}` after each phase. */
const partial = (what: string, data: object) =>
  console.log(`BENCH_PARTIAL ${JSON.stringify({ what, ...data })}`);

/**
 * Matmul FLOPs of one trained token: the forward (2 per weight of every projection and the LM head, plus
 * QKᵀ and PV over the whole row) and the same again for the input gradients through the frozen weights;
 * the LoRA products and their weight gradients are small and left out.
 */
function flopsPerToken(c: ReturnType<typeof parseConfig>, seq: number): number {
  const D = c.hidden_size;
  const q = c.num_attention_heads * c.head_dim;
  const kv = c.num_key_value_heads * c.head_dim;
  const perLayer = 2 * (D * q + 2 * D * kv + q * D + 3 * D * c.intermediate_size) + 4 * seq * q;
  const forward = c.num_hidden_layers * perLayer + 2 * D * c.vocab_size;
  return 2 * forward;
}

/** The batch-1 decode prompt (for --llamacpp). */
let benchPrompt: number[] = [];

async function benchOurs(): Promise<Ours> {
  const model = randomModel(args.layers);
  const V = model.config.vocab_size;
  const rand = mulberry32(99);
  const runtime = await createNodeRuntime({ backend: args.backend, threads: args.threads });
  // base weights stored float16 where the device has shader-f16 (auto), as the CLI's planner does
  const storage =
    opt.storage === 'auto'
      ? runtime.info.f16
        ? 'float16'
        : 'float32'
      : (opt.storage as 'float32' | 'float16');
  const t0 = now();
  const device = await DeviceModel.upload(runtime, model, { storage });
  const upload_ms = now() - t0;
  const mem0 = gpuMemory().live / MB;
  if (gpu()) partial('device', { info: runtime.info, storage, upload_ms, gpu_live_mb_after_upload: mem0 });

  if (opt.profile) return benchProfile(runtime, model, device, rand);
  const train = opt['no-train'] ? {} : await benchTrain(runtime, model, device, rand);
  if (!opt['no-train']) partial('train', train);

  // Decode: greedy at each --decode-batch (one warm-up generation per shape builds its sessions), then
  // batch 1 sampled at the chat defaults when --sample is given.
  const fused = !opt['no-fused'];
  const gen = new Generator(device, { fused });
  const prompts = Array.from({ length: Math.max(...args.decodeBatches) }, () =>
    Array.from({ length: args.prompt }, () => Math.floor(rand() * V)),
  );
  benchPrompt = prompts[0];
  let first_generation_ms = 0;
  const decode: Decode[] = [];
  const runs: [number, string, Partial<SamplingOptions>][] = args.decodeBatches.map((b) => [b, 'greedy', {}]);
  if (opt.sample) runs.push([1, 'temperature 0.7, top-p 0.9', { temperature: 0.7, topP: 0.9 }]);
  for (const [batch, label, sampling] of runs) {
    const rows = prompts.slice(0, batch);
    const g0 = now();
    await gen.generate(rows, { maxNewTokens: args.newTokens, stopIds: [], sampling });
    if (!decode.length) first_generation_ms = now() - g0;
    decode.push({ ...(await timeDecode(gen, rows, label, sampling)), fused });
    partial('decode', decode[decode.length - 1]);
  }
  if (opt['compare-fused']) {
    // batch 1 greedy with the other graphs (fused ops or the training model's): dispatches side by side
    const other = new Generator(device, { fused: !fused });
    const rows = prompts.slice(0, 1);
    const want = (await gen.generate(rows, { maxNewTokens: args.newTokens, stopIds: [] })).ids[0];
    const got = (await other.generate(rows, { maxNewTokens: args.newTokens, stopIds: [] })).ids[0];
    const d = await timeDecode(other, rows, `greedy, ${fused ? 'unfused' : 'fused'}`, {});
    decode.push({ ...d, fused: !fused, same_tokens: got.join() === want.join() });
    partial('decode', decode[decode.length - 1]);
    await other.dispose();
  }
  if (opt['graph-capture'] && gpu()) {
    // batch 1 greedy again with the decode graph captured: its speed, and whether the tokens are the same
    const captured = new Generator(device, { graphCapture: true, fused });
    const rows = prompts.slice(0, 1);
    const want = (await gen.generate(rows, { maxNewTokens: args.newTokens, stopIds: [] })).ids[0];
    const got = (await captured.generate(rows, { maxNewTokens: args.newTokens, stopIds: [] })).ids[0];
    const d = await timeDecode(captured, rows, 'greedy, graph capture', {});
    decode.push({ ...d, fused, same_tokens: got.join() === want.join() });
    partial('decode', decode[decode.length - 1]);
    await captured.dispose();
  }
  const rss_mb = process.memoryUsage().rss / MB;
  await gen.dispose();
  await device.dispose();
  await runtime.release();

  const b1 = decode.find((d) => d.batch === 1 && d.sampling === 'greedy') ?? decode[0];
  const sampled = decode.find((d) => d.sampling.startsWith('temperature'));
  return {
    ...train,
    prefill_ms: b1.prefill_ms,
    decode_tokens_per_s: b1.tokens_per_s,
    decode_ms_per_token: b1.ms_per_token,
    decode: decode.map(({ ids: _, ...d }) => d),
    decode_ids: b1.ids,
    sample_over_greedy: sampled ? sampled.ms_per_token / b1.ms_per_token : undefined,
    first_generation_ms,
    upload_ms,
    storage,
    rss_mb,
    gpu_live_mb_after_upload: gpu() ? mem0 : undefined,
  };
}

/** Training rows: `batch` full rows of `seq` random tokens per step, all trained. */
function trainRows(V: number, rand: () => number, steps: number): Example[] {
  return Array.from({ length: args.batch * steps }, () => {
    const ids = Array.from({ length: args.seq }, () => Math.floor(rand() * V));
    return { input_ids: ids, labels: ids };
  });
}

const trainConfig = (steps: number) =>
  resolveTrainConfig({
    ...LORA,
    dropout: 0,
    batchSize: args.batch,
    maxLen: args.seq,
    steps,
    shuffle: false,
  });

/**
 * --profile: onnxruntime's profile of the second training step and of the second decoded token (batch 1,
 * greedy; with --compare-fused also through the other inference graphs), printed as `BENCH_PROFILE {json}`.
 */
async function benchProfile(
  runtime: Awaited<ReturnType<typeof createNodeRuntime>>,
  model: BaseModel,
  device: DeviceModel,
  rand: () => number,
): Promise<never> {
  const V = model.config.vocab_size;
  const prof = profileSessions(runtime);
  const out: PhaseProfile[] = [];
  if (!opt['no-train']) {
    const plan = opt.plan as 'whole' | 'layerwise' | undefined;
    const config = trainConfig(2);
    const trainer = await Trainer.create({
      runtime,
      model,
      device,
      config,
      train: trainRows(V, rand, 2),
      plan,
      reuseMemory: true,
    });
    await trainer.trainStep();
    prof.setPhase('train_step');
    await trainer.trainStep();
    prof.setPhase('');
    out.push(...(await prof.report(() => trainer.dispose())));
  }
  const prompt = [Array.from({ length: args.prompt }, () => Math.floor(rand() * V))];
  const variants = opt['compare-fused'] ? [!opt['no-fused'], !!opt['no-fused']] : [!opt['no-fused']];
  for (const fused of variants) {
    const p = profileSessions(runtime);
    const gen = new Generator(device, { fused });
    let n = 0;
    // tokens: the prefill run gives the first, decode runs the next; the second decode run is measured
    await gen.generate(prompt, {
      maxNewTokens: 3,
      stopIds: [],
      onToken: () => p.setPhase(++n === 2 ? `decode_token${fused ? '' : '_unfused'}` : ''),
    });
    out.push(...(await p.report(() => gen.dispose())));
  }
  for (const r of out) {
    console.log(
      `BENCH_PROFILE ${JSON.stringify({ model: `${shape.name}-shape`, backend: args.backend, ...r })}`,
    );
    console.log(
      `${r.phase}: ${fmt(r.dispatches)} dispatches, ${fmt(r.kernels)} timed kernels, GPU ${fmt(r.gpu_ms)} ms` +
        `${r.gpu_timestamps ? '' : ' (no GPU timestamps on this device)'}, host ${fmt(r.host_ms)} ms; by op: ` +
        r.by_op
          .slice(0, 10)
          .map((o) => `${o.op} ${fmt(o.kernels)}× ${fmt(r.gpu_timestamps ? o.gpu_ms : o.host_ms)} ms`)
          .join(', '),
    );
  }
  await device.dispose();
  await runtime.release();
  process.exit(0);
}

async function benchTrain(
  runtime: Awaited<ReturnType<typeof createNodeRuntime>>,
  model: BaseModel,
  device: DeviceModel,
  rand: () => number,
): Promise<Partial<Ours>> {
  const V = model.config.vocab_size;
  // Full rows of `seq` random tokens, all trained; one row set per step, no dropout (torch has none).
  const rows = trainRows(V, rand, args.steps + 1);
  const config = trainConfig(args.steps + 1);
  const plan = opt.plan as 'whole' | 'layerwise' | undefined; // the Trainer's default when not given
  // sessions keep their memory between runs, as the planner has them where the budget allows (planner.ts)
  const trainer = await Trainer.create({
    runtime,
    model,
    device,
    config,
    train: rows,
    plan,
    reuseMemory: true,
  });
  resetPeak();
  // with the PyTorch train server, one of its steps after each of ours (the first of each: the warm-up)
  const steps = [await trainer.trainStep()];
  if (torchTrain) torchSteps.push(await torchTrain.step());
  if (gpu()) partial('first_step', { train_first_step_ms: steps[0].ms, loss: steps[0].loss });
  let dispatched = 0;
  for (let i = 1; i <= args.steps; i++) {
    const d0 = dispatches();
    steps.push(await trainer.trainStep());
    dispatched += dispatches() - d0;
    if (torchTrain) torchSteps.push(await torchTrain.step());
  }
  const perStep = dispatched / args.steps;
  const peak = gpuMemory().peak / MB;
  const train_plan = trainer.planKind;
  await trainer.dispose();
  const stepMs = steps.slice(1).map((s) => s.ms);
  const step = mean(stepMs);
  const tokensPerS = (args.batch * args.seq * 1000) / step;
  const flops = flopsPerToken(model.config, args.seq);
  return {
    train_tokens_per_s: tokensPerS,
    train_step_ms: step,
    train_step_ms_each: stepMs,
    train_first_step_ms: steps[0].ms,
    train_losses: steps.map((s) => s.loss),
    train_flops_per_token: flops,
    mfu: args.peakTflops ? (tokensPerS * flops) / (args.peakTflops * 1e12) : undefined,
    dispatches_per_step: gpu() ? perStep : undefined,
    train_gpu_peak_mb: gpu() ? peak : undefined,
    train_plan,
  };
}

async function timeDecode(
  gen: Generator,
  rows: number[][],
  label: string,
  sampling: Partial<SamplingOptions>,
): Promise<Decode> {
  let tFirst = 0;
  let d0 = 0;
  resetPeak();
  const s0 = now();
  const res = await gen.generate(rows, {
    maxNewTokens: args.newTokens,
    stopIds: [],
    sampling,
    onToken: () => {
      if (!tFirst) [tFirst, d0] = [now(), dispatches()];
    },
  });
  const decodeMs = now() - tFirst;
  // The first new token of each row comes from the prefill run; the other n − 1 from one decode run each.
  const steps = res.ids[0].length - 1;
  return {
    batch: rows.length,
    sampling: label,
    prefill_ms: tFirst - s0,
    tokens_per_s: (steps * rows.length * 1000) / decodeMs,
    ms_per_token: decodeMs / steps,
    dispatches_per_token: gpu() ? (dispatches() - d0) / steps : undefined,
    ids: res.ids[0],
    gpu_peak_mb: gpu() ? gpuMemory().peak / MB : undefined,
  };
}

const fmt = (x: unknown) =>
  typeof x === 'number' ? (Math.abs(x) >= 100 ? x.toFixed(0) : x.toPrecision(3)) : String(x ?? '-');

async function main() {
  const w = `${args.layers} layers, batch ${args.batch} × seq ${args.seq}, LoRA r${LORA.rank} α${LORA.alpha} on ${LORA.targets.join('+')}`;
  console.log(`${shape.name} shape (random weights), ${w}`);
  // Others' work on the box skews both sides (torch's more): the 1-minute load average is printed with it.
  const load = os.loadavg()[0];
  console.log(
    `backend ${args.backend}, ${args.threads} threads, ${os.cpus()[0]?.model}, nproc ${os.cpus().length}, ` +
      `load ${load.toFixed(2)}`,
  );
  const torchArgs = [
    ...['--layers', args.layers, '--batch', args.batch, '--seq', args.seq, '--steps', args.steps],
    ...['--new-tokens', args.newTokens, '--prompt', args.prompt, '--threads', args.threads],
    ...['--rank', LORA.rank, '--alpha', LORA.alpha, '--targets', LORA.targets.join(',')],
    ...['--shape', opt.shape!],
  ];
  // CPU training is timed against the PyTorch train server step by step (bench-torch.ts)
  const interleave = !opt['no-torch'] && !opt['no-train'] && args.backend === 'cpu' && !torchMissing();
  if (interleave) torchTrain = await startTorchTrainer(torchArgs);
  const t0 = now();
  const ours = await benchOurs();
  torchTrain?.close();
  const oursS = (now() - t0) / 1000;
  const t1 = now();
  const noTrain = opt['no-train'] || interleave ? ['--no-train'] : [];
  const torch = opt['no-torch'] ? 'not asked for (--no-torch)' : benchTorch([...torchArgs, ...noTrain]);
  const torchS = (now() - t1) / 1000;
  const ref = typeof torch === 'string' ? null : torch;
  const pairs = torchSteps.slice(1).map((t, i) => t.ms / ours.train_step_ms_each![i]);
  if (ref && interleave) {
    const ms = mean(torchSteps.slice(1).map((t) => t.ms));
    Object.assign(ref, {
      train_tokens_per_s: (args.batch * args.seq * 1000) / ms,
      train_step_ms: ms,
      train_step_ms_each: torchSteps.slice(1).map((t) => t.ms),
      train_first_step_ms: torchSteps[0].ms,
      train_losses: torchSteps.map((t) => t.loss),
    });
  }
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
    const a = ours[k] as number | undefined;
    const b = ref?.[k] as number | undefined;
    if (a === undefined) continue;
    const ratio = b ? fmt(a / b) : '-';
    console.log(`${label.padEnd(24)}${fmt(a).padStart(10)}${fmt(b).padStart(10)}${ratio.padStart(10)}`);
  }
  for (const d of ours.decode)
    console.log(
      `decode batch ${d.batch}, ${d.sampling}: ${fmt(d.tokens_per_s)} tokens/s, ${fmt(d.ms_per_token)} ms/step` +
        (d.dispatches_per_token !== undefined ? `, ${fmt(d.dispatches_per_token)} dispatches/step` : '') +
        (d.gpu_peak_mb !== undefined ? `, GPU peak ${fmt(d.gpu_peak_mb)} MB` : '') +
        (d.same_tokens !== undefined ? `, same tokens: ${d.same_tokens}` : ''),
    );
  // loaded only when asked: node-llama-cpp is a dev dependency, absent from the GPU bundle
  const cpp = opt.llamacpp
    ? await (
        await import('./bench-llamacpp')
      ).benchLlamaCpp(randomModel(args.layers), benchPrompt, args.newTokens, args.threads)
    : null;
  if (cpp) {
    const ourIds = ours.decode_ids ?? [];
    console.log(
      `llama.cpp decode batch 1, greedy: ${fmt(cpp.tokens_per_s)} tokens/s, ${fmt(cpp.ms_per_token)} ms/step, ` +
        `prefill ${fmt(cpp.prefill_ms)} ms; ours/llama.cpp decode ${(ours.decode_tokens_per_s / cpp.tokens_per_s).toFixed(3)}; ` +
        `same tokens: ${cpp.ids.join() === ourIds.join()}`,
    );
  }
  if (pairs.length)
    console.log(
      `train, steps interleaved with PyTorch's: PyTorch / ours step time ${pairs.map((x) => x.toFixed(2)).join(', ')}; ` +
        `median ${median(pairs).toFixed(2)}`,
    );
  if (ours.sample_over_greedy)
    console.log(`sampled / greedy time per token: ${ours.sample_over_greedy.toFixed(3)}`);
  if (ours.dispatches_per_step !== undefined)
    console.log(
      `train: ${fmt(ours.dispatches_per_step)} dispatches/step, GPU peak ${fmt(ours.train_gpu_peak_mb)} MB` +
        (ours.mfu !== undefined
          ? `, MFU ${(100 * ours.mfu).toFixed(1)} % of ${args.peakTflops} TFLOP/s`
          : ''),
    );
  console.log(
    `ours: upload ${fmt(ours.upload_ms)} ms, first generation (builds sessions) ${fmt(ours.first_generation_ms)} ms, ` +
      `steps ${(ours.train_step_ms_each ?? []).map(fmt).join('/')} ms, rss ${fmt(ours.rss_mb)} MB; wall ${fmt(oursS)} s` +
      (ref ? `; pytorch ${ref.torch_version}, blas ${ref.blas}, wall ${fmt(torchS)} s` : ''),
  );
  console.log(
    JSON.stringify({
      model: `${shape.name}-shape`,
      ...args,
      lora: LORA,
      cpu: os.cpus()[0]?.model,
      nproc: os.cpus().length,
      load_before: load,
      load_after: os.loadavg()[0],
      ours,
      torch: ref ?? { skipped: torch },
      llamacpp: cpp ?? undefined,
      ratio: ref
        ? {
            // interleaved: the median of each pair's PyTorch / ours step time
            train: pairs.length
              ? median(pairs)
              : ours.train_tokens_per_s
                ? ours.train_tokens_per_s / (ref.train_tokens_per_s as number)
                : null,
            train_pairs: pairs.length ? pairs : undefined,
            decode: ours.decode_tokens_per_s / (ref.decode_tokens_per_s as number),
          }
        : null,
    }),
  );
}

await main();
