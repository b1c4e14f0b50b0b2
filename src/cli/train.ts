// `train`: LoRA training from the command line over the engine's training loop. Everything is validated
// before the output folder is touched; metrics.jsonl grows one line per optimizer step (a resume keeps the
// lines up to its checkpoint); the adapter and a resumable checkpoint are written atomically whenever a
// checkpoint comes due and at the end.
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../engine/errors';
import { readAdapter, writeAdapter, type Adapter } from '../engine/io/peft';
import { dirSource } from '../engine/io/source_node';
import { resolveTrainConfig, resolveTargets, type TrainConfig } from '../engine/train/config';
import { checkResumeData, datasetFingerprint, splitValidation } from '../engine/train/data-split';
import { runTrainingLoop } from '../engine/train/loop';
import { Trainer } from '../engine/train/trainer';
import { metricsUpTo, readCheckpoint, writeCheckpoint } from './checkpoint';
import { flagOf } from './errors';
import { checkWritableDir, writeFilesAtomic } from './files';
import { openModelReader, openRuntime, readExamples, type BackendChoice } from './context';
import { peakMiB, placeModel, type MemoryArgs } from './memory';
import { TrainProgress } from './progress';

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
  let cfg = resolveTrainConfig(a.config, flagOf);
  checkWritableDir(a.out);
  const model = await openModelReader(a.model, a.quiet);
  let init: Adapter | undefined;
  if (a.initAdapter) {
    init = await readAdapter(dirSource(a.initAdapter), model.config);
    cfg = resolveTrainConfig(
      {
        ...a.config,
        rank: init.meta.rank,
        alpha: init.meta.alpha,
        targets: init.meta.targets,
        rslora: init.meta.rslora,
      },
      flagOf,
    );
  }
  const resume = a.initAdapter ? readCheckpoint(a.initAdapter, cfg) : undefined;
  const { examples, truncated } = readExamples(a.data, model, {
    maxLen: cfg.maxLen,
    trainOnPrompt: cfg.trainOnPrompt,
  });
  // a checkpoint made on other data is refused before anything is written
  const fingerprint = datasetFingerprint(examples);
  checkResumeData(resume, fingerprint);
  if (truncated) process.stderr.write(`note: ${truncated} rows were truncated to ${cfg.maxLen} tokens\n`);
  const { train, val } = splitValidation(examples, cfg.valSplit, cfg.seed);

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
    rowsPerRun: plan.rows,
    queryBlock: plan.queryBlock,
    reuseMemory: plan.reuseMemory,
    onNote: (msg) => process.stderr.write(`note: ${msg}\n`),
  });
  mkdirSync(a.out, { recursive: true });
  // a fresh run starts an empty file; a resumed one keeps the history up to its checkpoint's step
  const metricsFile = join(a.out, 'metrics.jsonl');
  writeFilesAtomic(a.out, {
    'metrics.jsonl': resume && a.initAdapter ? metricsUpTo(a.initAdapter, resume.step) : '',
  });
  const meta = {
    rank: cfg.rank,
    alpha: cfg.alpha,
    targets: resolveTargets(cfg.targets),
    rslora: cfg.rslora,
    dropout: cfg.dropout,
    baseModel: a.model,
  };
  if (!a.quiet) {
    process.stderr.write(
      `training ${train.length} rows${val.length ? ` (+${val.length} validation)` : ''} for ${trainer.totalSteps} steps on ${runtime.info.backend}` +
        `${runtime.info.description ? ` (${runtime.info.description})` : ''}\n`,
    );
  }
  // Ctrl-C (or a TERM) stops after the current step, with a checkpoint and the adapter of that step
  const progress = new TrainProgress(trainer.totalSteps, resume?.step ?? 0);
  let stop = false;
  const onSignal = () => {
    stop = true;
  };
  process.once('SIGINT', onSignal).once('SIGTERM', onSignal);
  try {
    const result = await runTrainingLoop(trainer, {
      config: cfg,
      val,
      fingerprint,
      resume,
      hooks: {
        shouldStop: () => stop,
        onStep: (m, valLoss) => {
          const line: Record<string, number> = { ...m, mem_mb: peakMiB(runtime) };
          if (valLoss !== undefined) line.val_loss = valLoss;
          appendFileSync(metricsFile, JSON.stringify(line) + '\n');
          if (!a.quiet) process.stderr.write(progress.line(m, valLoss));
        },
        onCheckpoint: async (ck) => {
          // the adapter beside its checkpoint, so the folder always holds one consistent state
          writeCheckpoint(a.out, cfg, ck);
          writeFilesAtomic(a.out, writeAdapter(model.config, { meta, weights: ck.lora }));
        },
      },
    });
    if (result.status === 'paused')
      throw new UserError(`${result.message} Its checkpoint is in ${a.out} (resume with --init-adapter).`);
    if (result.status === 'stopped') {
      process.stderr.write(`stopped at step ${result.step}: its checkpoint and adapter are in ${a.out}\n`);
      process.exitCode = 130;
    }
  } finally {
    process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
    await trainer.dispose();
    await device.dispose();
    await runtime.release();
  }
}
