// LoRA Studio command line: train, eval, generate, export, bench over the same engine as the studio
// (DESIGN §3 "CLI"). Arguments with node:util parseArgs; errors as one clear line (errors.ts).
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UserError } from '../engine/errors';
import { defaultTrainConfig, type Schedule, type TrainConfig } from '../engine/train/config';
import type { BackendChoice } from './context';
import { reportError, UsageError } from './errors';
import { evaluate } from './eval';
import { dataMain, DATA_USAGE } from './data';
import { evaluateArgs, evaluateCmd } from './evaluate';
import { generate } from './generate';
import { exportCmd, type ExportFormat } from './export';
import { train } from './train';
import { parsePlan, type MemoryArgs } from './memory';

const USAGE = `LoRA Studio CLI

  train    --model DIR|HUB_ID --data FILE --out DIR [--init-adapter DIR] [--rank 8 --alpha 16
           --dropout 0.05 --targets q_proj,v_proj|all-linear --rslora] [--steps N | --epochs E]
           [--lr 2e-4 --weight-decay 0 --batch-size 4 --grad-accum 1 --max-len 1024
           --schedule constant|linear|cosine --warmup 0 --max-grad-norm 1.0 --seed 0 --no-shuffle
           --val-split 0 --train-on-prompt --packing --eval-every N --neftune-alpha 0
           --checkpoint-every N --checkpoint-seconds 60]   (checkpoints: every N steps, every S seconds; 0 = off)
           [--memory-budget MiB --plan auto|whole|layerwise]
  eval     --model DIR|HUB_ID [--adapter DIR] --data FILE [--batch-size 4 --max-len 1024]
           [--memory-budget MiB --plan auto|whole|layerwise]
  generate --model DIR|HUB_ID [--adapter DIR] (--prompt TEXT | --chat TEXT [--system TEXT])
           [--max-new-tokens 64 --temperature 0 --top-p 1 --top-k 0 --repetition-penalty 1 --seed 0 --stop TEXT… --json]
  bench    [--layers 30 --batch 2 --seq 128 --steps 5 --new-tokens 32 --backend cpu|wasm|webgpu --threads N --no-torch]
  export   --model DIR|HUB_ID [--adapter DIR] --format peft|merged|gguf-adapter|gguf-merged --out PATH
           [--dtype f32|f16|bf16|q8_0 --force]   (gguf: PATH is the .gguf file; a .Modelfile goes beside it)
  export   --model DIR|HUB_ID --format recipe --data FILE --out DIR [--force] [the training flags of train]
           (a folder for a GPU machine: data.jsonl, train_trl.py for TRL, axolotl.yaml, README.md)
  evaluate --model DIR|HUB_ID [--adapter DIR] [--compare] --data FILE --out REPORT.json
           [--max-new-tokens 128 --max-len 1024 --train-data FILE]   (base vs tuned on held-out rows)
${DATA_USAGE}
Every command: --backend auto|cpu|wasm|webgpu  --threads N  --quiet  --verbose
--model embedded: the studio's embedded model (public/models/wordnet-mini, a small Qwen3 pretrained on WordNet).
Hub models: HF_ENDPOINT (mirror), HF_TOKEN (gated repos); downloads are cached in ~/.cache/lora-studio.
`;

const common = {
  model: { type: 'string' },
  backend: { type: 'string', default: 'auto' },
  threads: { type: 'string' },
  quiet: { type: 'boolean', default: false },
  verbose: { type: 'boolean', default: false },
} as const;

/** The training settings (TrainConfig) as flags: `train` runs them, `export --format recipe` writes them out. */
const trainOptions = {
  rank: { type: 'string' },
  alpha: { type: 'string' },
  dropout: { type: 'string' },
  targets: { type: 'string' },
  rslora: { type: 'boolean' },
  steps: { type: 'string' },
  epochs: { type: 'string' },
  lr: { type: 'string' },
  'weight-decay': { type: 'string' },
  'batch-size': { type: 'string' },
  'grad-accum': { type: 'string' },
  'max-len': { type: 'string' },
  schedule: { type: 'string' },
  warmup: { type: 'string' },
  'max-grad-norm': { type: 'string' },
  seed: { type: 'string' },
  'no-shuffle': { type: 'boolean' },
  'val-split': { type: 'string' },
  'train-on-prompt': { type: 'boolean' },
  packing: { type: 'boolean' },
  'checkpoint-every': { type: 'string' },
  'checkpoint-seconds': { type: 'string' },
  'eval-every': { type: 'string' },
  'neftune-alpha': { type: 'string' },
} as const;

/** The memory planner's flags (DESIGN §8): a budget for the whole process's peak, and a forced plan. */
const memoryOptions = {
  'memory-budget': { type: 'string' },
  plan: { type: 'string' },
} as const;

const specs = {
  train: {
    ...common,
    data: { type: 'string' },
    out: { type: 'string' },
    'init-adapter': { type: 'string' },
    ...trainOptions,
    ...memoryOptions,
  },
  eval: {
    ...common,
    ...memoryOptions,
    adapter: { type: 'string' },
    data: { type: 'string' },
    'batch-size': { type: 'string' },
    'max-len': { type: 'string' },
  },
  generate: {
    ...common,
    adapter: { type: 'string' },
    prompt: { type: 'string' },
    chat: { type: 'string' },
    system: { type: 'string' },
    'max-new-tokens': { type: 'string' },
    temperature: { type: 'string' },
    'top-p': { type: 'string' },
    'top-k': { type: 'string' },
    'repetition-penalty': { type: 'string' },
    seed: { type: 'string' },
    json: { type: 'boolean', default: false },
    stop: { type: 'string', multiple: true },
  },
  export: {
    ...common,
    adapter: { type: 'string' },
    format: { type: 'string' },
    out: { type: 'string' },
    dtype: { type: 'string' },
    force: { type: 'boolean' },
    data: { type: 'string' },
    ...trainOptions,
  },
} satisfies Record<string, ParseArgsConfig['options']>;

type Values = Record<string, string | boolean | undefined>;

function num(v: Values, key: string, integer = false): number | undefined {
  const s = v[key];
  if (s === undefined) return undefined;
  const n = Number(s);
  if (typeof s !== 'string' || s.trim() === '' || !Number.isFinite(n) || (integer && !Number.isInteger(n))) {
    throw new UsageError(`--${key} expects ${integer ? 'an integer' : 'a number'}, got '${String(s)}'`);
  }
  return n;
}
const need = (v: Values, key: string): string => {
  const s = v[key];
  if (typeof s !== 'string' || !s) throw new UsageError(`missing --${key}`);
  return s;
};
function memoryArgs(v: Values): MemoryArgs {
  const budgetMiB = num(v, 'memory-budget');
  if (budgetMiB !== undefined && budgetMiB <= 0)
    throw new UsageError('--memory-budget must be a positive number of MiB');
  return { budgetMiB, plan: parsePlan(v.plan as string | undefined) };
}
const backendOf = (v: Values): BackendChoice => {
  const b = v.backend as string;
  if (!['auto', 'cpu', 'wasm', 'webgpu'].includes(b))
    throw new UsageError(`--backend ${b}: use auto, cpu, wasm or webgpu`);
  return b as BackendChoice;
};

function trainConfig(v: Values): Partial<TrainConfig> {
  const c: Partial<TrainConfig> = {};
  const set = <K extends keyof TrainConfig>(k: K, x: TrainConfig[K] | undefined) => {
    if (x !== undefined) c[k] = x;
  };
  set('rank', num(v, 'rank', true));
  set('alpha', num(v, 'alpha'));
  set('dropout', num(v, 'dropout'));
  if (typeof v.targets === 'string')
    set(
      'targets',
      v.targets === 'all-linear'
        ? 'all-linear'
        : v.targets
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean),
    );
  if (v.rslora) c.rslora = true;
  set('steps', num(v, 'steps', true));
  set('epochs', num(v, 'epochs'));
  if (c.steps === undefined && c.epochs !== undefined) c.steps = 0;
  if (c.steps !== undefined && c.epochs === undefined) c.epochs = defaultTrainConfig.epochs;
  set('lr', num(v, 'lr'));
  set('weightDecay', num(v, 'weight-decay'));
  set('batchSize', num(v, 'batch-size', true));
  set('gradAccum', num(v, 'grad-accum', true));
  set('maxLen', num(v, 'max-len', true));
  if (typeof v.schedule === 'string') c.schedule = v.schedule as Schedule;
  set('warmup', num(v, 'warmup', true));
  set('maxGradNorm', num(v, 'max-grad-norm'));
  set('seed', num(v, 'seed', true));
  if (v['no-shuffle']) c.shuffle = false;
  set('valSplit', num(v, 'val-split'));
  if (v['train-on-prompt']) c.trainOnPrompt = true;
  if (v.packing) c.packing = true;
  set('checkpointEvery', num(v, 'checkpoint-every', true));
  set('checkpointSeconds', num(v, 'checkpoint-seconds'));
  set('evalEvery', num(v, 'eval-every', true));
  set('neftuneAlpha', num(v, 'neftune-alpha'));
  return c;
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === 'bench') {
    // the benchmark script (tools/bench.ts): train and decode tokens/s, with PyTorch beside it when present
    const { spawnSync } = await import('node:child_process');
    const script = new URL('../../tools/bench.ts', import.meta.url).pathname;
    return (
      spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', script, ...rest], { stdio: 'inherit' })
        .status ?? 1
    );
  }
  if (command === 'data' || command === 'evaluate') {
    try {
      if (command === 'data') await dataMain(rest);
      else await evaluateCmd(evaluateArgs(rest));
      return 0;
    } catch (e) {
      return reportError(e, rest.includes('--verbose'));
    }
  }
  if (!command || command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(USAGE);
    return command ? 0 : 2;
  }
  const verbose = rest.includes('--verbose');
  try {
    if (!(command in specs)) throw new UsageError(`unknown command '${command}'`);
    let values: Values;
    try {
      values = parseArgs({
        args: rest,
        options: specs[command as keyof typeof specs],
        strict: true,
        allowPositionals: false,
      }).values as Values;
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    const base = {
      model: need(values, 'model'),
      backend: backendOf(values),
      threads: num(values, 'threads', true),
      quiet: !!values.quiet,
    };
    if (command === 'train') {
      await train({
        ...base,
        data: need(values, 'data'),
        out: need(values, 'out'),
        initAdapter: values['init-adapter'] as string | undefined,
        config: trainConfig(values),
        memory: memoryArgs(values),
      });
    } else if (command === 'eval') {
      await evaluate({
        ...base,
        adapter: values.adapter as string | undefined,
        data: need(values, 'data'),
        batchSize: num(values, 'batch-size', true) ?? defaultTrainConfig.batchSize,
        maxLen: num(values, 'max-len', true) ?? defaultTrainConfig.maxLen,
        memory: memoryArgs(values),
      });
    } else if (command === 'generate') {
      await generate({
        ...base,
        adapter: values.adapter as string | undefined,
        prompt: values.prompt as string | undefined,
        chat: values.chat as string | undefined,
        system: values.system as string | undefined,
        maxNewTokens: num(values, 'max-new-tokens', true) ?? 64,
        sampling: {
          temperature: num(values, 'temperature') ?? 0,
          topP: num(values, 'top-p') ?? 1,
          topK: num(values, 'top-k', true) ?? 0,
          repetitionPenalty: num(values, 'repetition-penalty') ?? 1,
        },
        seed: num(values, 'seed', true) ?? 0,
        json: !!values.json,
        stop: (values.stop as unknown as string[] | undefined) ?? [],
      });
    } else if (command === 'export') {
      const format = need(values, 'format') as ExportFormat;
      const recipe = format === 'recipe';
      const trainFlag = ['data', ...Object.keys(trainOptions)].find((k) => values[k] !== undefined);
      if (!recipe && trainFlag) throw new UsageError(`--${trainFlag} is only for --format recipe`);
      await exportCmd({
        ...base,
        adapter: values.adapter as string | undefined,
        format,
        out: need(values, 'out'),
        dtype: values.dtype as string | undefined,
        force: !!values.force,
        ...(recipe ? { data: need(values, 'data'), train: trainConfig(values) } : {}),
      });
    } else {
      throw new UserError(`command '${command}' is not available`);
    }
    return 0;
  } catch (e) {
    return reportError(e, verbose);
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => process.exit(reportError(e, process.argv.includes('--verbose'))),
);
