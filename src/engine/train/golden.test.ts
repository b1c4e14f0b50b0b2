// The training engine against PyTorch: tiny llama / qwen2 / qwen3 models from tests/fixtures/golden
// (written by tools/golden.py). Loss and LoRA gradients to 1e-4 relative, adapters after AdamW steps
// with weight decay and active clipping to 1e-3, gradient accumulation and BF16 loading.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readAdapter } from '../io/peft';
import { dirSource } from '../io/source_node';
import { parseHeader, readFloat32 } from '../io/safetensors';
import { loadModel, type LoadedModel } from '../model/weights';
import { initLora, loraSpecs, toPeft, type LoraWeights } from '../model/lora';
import { createNodeRuntime } from '../runtime/node_node';
import type { Runtime } from '../runtime/types';
import type { Example } from './batches';
import { ALL_LINEAR, resolveTrainConfig, type TrainConfig } from './config';
import { Trainer } from './trainer';
import { maxRelErr } from '../testing/compare';

const root = join(__dirname, '../../../tests/fixtures/golden');
const cases = (
  JSON.parse(readFileSync(join(root, 'index.json'), 'utf8')) as { cases: { name: string }[] }
).cases.map((c) => c.name);

const readJson = (p: string) => JSON.parse(readFileSync(p, 'utf8'));
const readRows = (p: string): Example[] =>
  readFileSync(p, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Example);
function readTensors(p: string): Map<string, Float32Array> {
  const bytes = new Uint8Array(readFileSync(p));
  const h = parseHeader(bytes, p);
  return new Map([...h.entries].map(([k, e]) => [k, readFloat32(bytes, e, p, k)]));
}

function expectAdapter(model: LoadedModel, cfg: TrainConfig, w: LoraWeights, file: string, tol: number) {
  const expected = readTensors(file);
  const ours = toPeft(loraSpecs(model.config, ALL_LINEAR), cfg.rank, w);
  expect(Object.keys(ours).sort()).toEqual([...expected.keys()].sort());
  for (const [k, t] of Object.entries(ours)) expect(maxRelErr(t.data, expected.get(k)!), k).toBeLessThan(tol);
}

let rt: Runtime;
beforeAll(async () => {
  rt = await createNodeRuntime({ backend: 'cpu', threads: 2 });
});
afterAll(async () => rt?.release());

// every golden check runs under both step plans (DESIGN §8): same numbers either way
const PLANS = ['whole', 'layerwise'] as const;
const planCases = PLANS.flatMap((plan) => cases.map((name) => [name, plan] as const));

describe.each(planCases)('golden %s (%s plan)', (name, plan) => {
  const dir = join(root, name);
  const golden = readJson(join(dir, 'golden.json'));
  const rows = readRows(join(dir, 'data.jsonl'));
  const cfg = resolveTrainConfig({
    rank: golden.lora.r,
    alpha: golden.lora.lora_alpha,
    rslora: golden.lora.use_rslora,
    dropout: 0,
    targets: 'all-linear',
    lr: golden.train.lr,
    weightDecay: golden.train.weight_decay,
    maxGradNorm: golden.train.max_grad_norm,
    batchSize: rows.length,
    gradAccum: 1,
    steps: golden.train.steps,
    shuffle: false,
    maxLen: 64,
  });
  let model: LoadedModel;
  let init: LoraWeights;
  beforeAll(async () => {
    model = await loadModel(dirSource(join(dir, 'model')));
    init = (await readAdapter(dirSource(join(dir, 'adapter_init')), model.config)).weights;
  });

  it('loss without adapter and with the initial adapter', async () => {
    const zero = initLora(loraSpecs(model.config, ALL_LINEAR), cfg.rank, 0);
    const t0 = await Trainer.create({ runtime: rt, model, config: cfg, train: rows, init: zero, plan });
    const base = await t0.evaluate(rows);
    await t0.dispose();
    expect(base.tokens).toBe(golden.tokens);
    expect(Math.abs(base.loss - golden.loss_base) / golden.loss_base).toBeLessThan(1e-4);
    const t1 = await Trainer.create({ runtime: rt, model, config: cfg, train: rows, init, plan });
    const withInit = await t1.evaluate(rows);
    await t1.dispose();
    expect(Math.abs(withInit.loss - golden.loss_init) / golden.loss_init).toBeLessThan(1e-4);
  });

  it('LoRA gradients', async () => {
    const t = await Trainer.create({ runtime: rt, model, config: cfg, train: rows, init, plan });
    expect(t.planKind).toBe(plan);
    const grads = await t.gradients(rows);
    await t.dispose();
    expectAdapter(model, cfg, grads, join(dir, 'grads.safetensors'), 1e-4);
  });

  it('adapter after 3 AdamW steps (weight decay, clipping)', async () => {
    const t = await Trainer.create({ runtime: rt, model, config: cfg, train: rows, init, plan });
    for (let s = 0; s < golden.train.steps; s++) {
      const m = await t.trainStep();
      expect(Math.abs(m.loss - golden.steps[s].loss) / golden.steps[s].loss).toBeLessThan(1e-4);
      expect(Math.abs(m.grad_norm - golden.steps[s].grad_norm) / golden.steps[s].grad_norm).toBeLessThan(
        1e-4,
      );
      expect(m.tokens).toBe(golden.tokens);
    }
    const after = await t.adapter();
    await t.dispose();
    expectAdapter(model, cfg, after, join(dir, 'adapter_after/adapter_model.safetensors'), 1e-4);
  });
});

describe.each(PLANS)('golden llama_tied extras (%s plan)', (plan) => {
  const dir = join(root, 'llama_tied');
  it('gradient accumulation over two micro-batches', async () => {
    const acc = readJson(join(dir, 'accum.json'));
    const rows = readRows(join(dir, 'data.jsonl'));
    const model = await loadModel(dirSource(join(dir, 'model')));
    const init = (await readAdapter(dirSource(join(dir, 'adapter_init')), model.config)).weights;
    const cfg = resolveTrainConfig({
      rank: 4,
      alpha: 8,
      dropout: 0,
      targets: 'all-linear',
      lr: acc.train.lr,
      weightDecay: acc.train.weight_decay,
      maxGradNorm: acc.train.max_grad_norm,
      batchSize: acc.micro_batches[0].length,
      gradAccum: acc.grad_accum,
      steps: acc.train.steps,
      shuffle: false,
      maxLen: 64,
    });
    const t = await Trainer.create({ runtime: rt, model, config: cfg, train: rows, init, plan });
    for (let s = 0; s < acc.train.steps; s++) {
      const m = await t.trainStep();
      expect(Math.abs(m.loss - acc.steps[s].loss) / acc.steps[s].loss).toBeLessThan(1e-4);
      expect(Math.abs(m.grad_norm - acc.steps[s].grad_norm) / acc.steps[s].grad_norm).toBeLessThan(1e-4);
    }
    const after = await t.adapter();
    await t.dispose();
    expectAdapter(model, cfg, after, join(dir, 'adapter_after_accum/adapter_model.safetensors'), 1e-4);
  });

  it('BF16 checkpoint loads and gives the reference loss', async () => {
    const golden = readJson(join(dir, 'golden.json'));
    const rows = readRows(join(dir, 'data.jsonl'));
    const model = await loadModel(dirSource(join(dir, 'model_bf16')));
    const cfg = resolveTrainConfig({
      rank: 4,
      alpha: 8,
      targets: 'all-linear',
      batchSize: 4,
      steps: 1,
      shuffle: false,
    });
    // the layer-wise plan keeps a 16-bit checkpoint's weights as float16: the layers' (cast per layer), or all
    const storages = plan === 'layerwise' ? (['float16', 'float16-all'] as const) : (['float32'] as const);
    for (const storage of storages) {
      const t = await Trainer.create({ runtime: rt, model, config: cfg, train: rows, plan, storage });
      const r = await t.evaluate(rows);
      const m = await t.trainStep();
      await t.dispose();
      expect(Math.abs(r.loss - golden.loss_base_bf16) / golden.loss_base_bf16, storage).toBeLessThan(1e-4);
      expect(Math.abs(m.loss - golden.loss_base_bf16) / golden.loss_base_bf16, storage).toBeLessThan(1e-4);
    }
  });
});
