// `eval`: loss of a model (with an optional adapter) over a whole data file, Σ CE / Σ tokens; the last
// stdout line is {"loss", "tokens"}.
import { readAdapter } from '../engine/io/peft';
import { dirSource } from '../engine/io/source_node';
import { ALL_LINEAR, resolveTrainConfig } from '../engine/train/config';
import { Trainer } from '../engine/train/trainer';
import { openModelReader, openRuntime, readExamples, type BackendChoice } from './context';
import { flagOf } from './errors';
import { placeModel, type MemoryArgs } from './memory';

export interface EvalArgs {
  model: string;
  adapter?: string;
  data: string;
  batchSize: number;
  maxLen: number;
  backend: BackendChoice;
  threads?: number;
  quiet: boolean;
  memory: MemoryArgs;
}

export async function evaluate(a: EvalArgs): Promise<void> {
  const model = await openModelReader(a.model, a.quiet);
  const adapter = a.adapter ? await readAdapter(dirSource(a.adapter), model.config) : undefined;
  const cfg = resolveTrainConfig(
    {
      rank: adapter?.meta.rank ?? 1,
      alpha: adapter?.meta.alpha ?? 1,
      rslora: adapter?.meta.rslora ?? false,
      targets: adapter?.meta.targets ?? [...ALL_LINEAR].slice(0, 1),
      dropout: 0,
      batchSize: a.batchSize,
      maxLen: a.maxLen,
      steps: 1,
      shuffle: false,
    },
    flagOf,
  );
  const { examples } = readExamples(a.data, model, { maxLen: cfg.maxLen, trainOnPrompt: false });
  const runtime = await openRuntime(a.backend, a.threads);
  const { device, plan } = await placeModel(model, runtime, cfg, examples, a.memory, a.quiet, true);
  // without an adapter a rank-1 adapter with B = 0 adds exactly nothing
  const trainer = await Trainer.create({
    runtime,
    model,
    device,
    config: cfg,
    train: examples,
    init: adapter?.weights,
    plan: plan.plan,
    ceChunk: plan.ceChunk,
  });
  const r = await trainer.evaluate(examples);
  await trainer.dispose();
  await device.dispose();
  await runtime.release();
  process.stdout.write(JSON.stringify({ loss: r.loss, tokens: r.tokens }) + '\n');
}
