// `train`: LoRA training from the command line. Everything is validated before the output folder is
// touched; metrics.jsonl grows one line per optimizer step; the adapter and a resumable checkpoint are
// written atomically at the end.
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../engine/errors';
import { readAdapter, writeAdapter, type Adapter } from '../engine/io/peft';
import { dirSource } from '../engine/io/source_node';
import { resolveTrainConfig, resolveTargets, type TrainConfig } from '../engine/train/config';
import { Trainer } from '../engine/train/trainer';
import { readCheckpoint, writeCheckpoint } from './checkpoint';
import { checkWritableDir, writeFilesAtomic } from './files';
import { openModelReader, openRuntime, readExamples, type BackendChoice } from './context';
import { peakMiB, placeModel, type MemoryArgs } from './memory';
import { Rng } from '../engine/train/rng';

export interface TrainArgs {
  model: string;
  data: string;
  out: string;
  initAdapter?: string;
  config: Partial<TrainConfig>;
  backend: BackendChoice;
  threads?: number;
  quiet: boolean;
  memory: MemoryArgs;
}

export async function train(a: TrainArgs): Promise<void> {
  let cfg = resolveTrainConfig(a.config);
  checkWritableDir(a.out);
  const model = await openModelReader(a.model, a.quiet);
  let init: Adapter | undefined;
  if (a.initAdapter) {
    init = await readAdapter(dirSource(a.initAdapter), model.config);
    cfg = resolveTrainConfig({
      ...a.config,
      rank: init.meta.rank,
      alpha: init.meta.alpha,
      targets: init.meta.targets,
      rslora: init.meta.rslora,
    });
  }
  const resume = a.initAdapter ? readCheckpoint(a.initAdapter, cfg) : undefined;
  const { examples, truncated } = readExamples(a.data, model, {
    maxLen: cfg.maxLen,
    trainOnPrompt: cfg.trainOnPrompt,
  });
  if (truncated) process.stderr.write(`note: ${truncated} rows were truncated to ${cfg.maxLen} tokens\n`);

  // validation split, seeded
  let train = examples;
  let val: typeof examples = [];
  if (cfg.valSplit > 0) {
    const order = new Rng(cfg.seed ^ 0x5eed).shuffle([...examples.keys()]);
    const nVal = Math.max(1, Math.round(examples.length * cfg.valSplit));
    if (nVal >= examples.length) throw new UserError(`--val-split ${cfg.valSplit} leaves no training rows`);
    const valSet = new Set(order.slice(0, nVal));
    val = examples.filter((_, i) => valSet.has(i));
    train = examples.filter((_, i) => !valSet.has(i));
  }

  const runtime = await openRuntime(a.backend, a.threads);
  const { device, plan } = await placeModel(model, runtime, cfg, examples, a.memory, a.quiet);
  const trainer = await Trainer.create({
    runtime,
    model,
    device,
    config: cfg,
    train,
    init: resume?.lora ? undefined : init?.weights,
    resume,
    plan: plan.plan,
    ceChunk: plan.ceChunk,
    onNote: (msg) => process.stderr.write(`note: ${msg}\n`),
  });
  mkdirSync(a.out, { recursive: true });
  const metricsFile = join(a.out, 'metrics.jsonl');
  if (!resume) writeFileSync(metricsFile, '');
  const log = (o: object) => appendFileSync(metricsFile, JSON.stringify(o) + '\n');
  const meta = {
    rank: cfg.rank,
    alpha: cfg.alpha,
    targets: resolveTargets(cfg.targets),
    rslora: cfg.rslora,
    dropout: cfg.dropout,
    baseModel: a.model,
  };
  const evalEvery = cfg.evalEvery || trainer.totalSteps;
  if (!a.quiet) {
    process.stderr.write(
      `training ${train.length} rows${val.length ? ` (+${val.length} validation)` : ''} for ${trainer.totalSteps} steps on ${runtime.info.backend}` +
        `${runtime.info.description ? ` (${runtime.info.description})` : ''}\n`,
    );
  }
  while (trainer.step < trainer.totalSteps) {
    const m = await trainer.trainStep();
    if (!Number.isFinite(m.loss))
      throw new UserError(`the loss became ${m.loss} at step ${m.step}; try a lower --lr`);
    const line: Record<string, number> = { ...m, mem_mb: peakMiB(runtime) };
    if (val.length && (m.step % evalEvery === 0 || m.step === trainer.totalSteps))
      line.val_loss = (await trainer.evaluate(val)).loss;
    log(line);
    if (!a.quiet) {
      const tps = (m.tokens / m.ms) * 1000;
      process.stderr.write(
        `step ${m.step}/${trainer.totalSteps}  loss ${m.loss.toFixed(4)}${line.val_loss !== undefined ? `  val ${line.val_loss.toFixed(4)}` : ''}` +
          `  lr ${m.lr.toExponential(2)}  grad_norm ${m.grad_norm.toFixed(3)}  ${tps.toFixed(0)} tok/s\n`,
      );
    }
    if (cfg.checkpointEvery > 0 && m.step % cfg.checkpointEvery === 0) {
      writeCheckpoint(a.out, cfg, await trainer.checkpoint());
      writeFilesAtomic(a.out, writeAdapter(model.config, { meta, weights: await trainer.adapter() }));
    }
  }
  writeFilesAtomic(a.out, writeAdapter(model.config, { meta, weights: await trainer.adapter() }));
  writeCheckpoint(a.out, cfg, await trainer.checkpoint());
  await trainer.dispose();
  await device.dispose();
  await runtime.release();
}
