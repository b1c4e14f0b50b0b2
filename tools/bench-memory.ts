// `npm run bench:memory`: peak resident memory of the CLI's whole process group (npm, tsx, node) while it
// trains one step on the CPU backend under `--memory-budget`, for real checkpoints' shapes with random
// weights, beside the planner's prediction and PyTorch's loss on the same rows (tools/bench_memory.py).
//   npx tsx tools/bench-memory.ts [--only NAME] [--models DIR] [--json FILE]
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Rng } from '../src/engine/rng';

const PY = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
const { values: opts } = parseArgs({
  options: {
    only: { type: 'string' },
    models: { type: 'string', default: join(process.env.HOME ?? '/tmp', '.cache/lora-studio/bench-models') },
    json: { type: 'string', default: 'tools/results/memory-cpu.json' },
  },
});

interface Case {
  name: string;
  preset: 'qwen2.5-0.5b' | 'llama-3.2-1b';
  dtype: 'BF16' | 'F32';
  batch: number;
  len: number;
  /** MiB; the goal the measured peak must stay under */
  budget: number;
  command: 'train' | 'eval';
  extra?: string[];
  /** two AdamW steps from a nonzero adapter compared with PyTorch's (tolerance 2e-3) */
  adamw?: boolean;
}

const CASES: Case[] = [
  {
    name: 'qwen2.5-0.5b 4×512',
    preset: 'qwen2.5-0.5b',
    dtype: 'BF16',
    batch: 4,
    len: 512,
    budget: 3072,
    command: 'train',
  },
  {
    name: 'qwen2.5-0.5b 1×4096',
    preset: 'qwen2.5-0.5b',
    dtype: 'BF16',
    batch: 1,
    len: 4096,
    budget: 3072,
    command: 'train',
  },
  {
    name: 'llama-3.2-1b 2×512',
    preset: 'llama-3.2-1b',
    dtype: 'BF16',
    batch: 2,
    len: 512,
    budget: 6144,
    command: 'train',
  },
  {
    name: 'llama-3.2-1b F32 (one 4.9 GB file) eval 1×256',
    preset: 'llama-3.2-1b',
    dtype: 'F32',
    batch: 1,
    len: 256,
    budget: 8192,
    command: 'eval',
  },
  {
    name: 'qwen2.5-0.5b layer-wise, 2 AdamW steps from a nonzero adapter, 1×256',
    preset: 'qwen2.5-0.5b',
    dtype: 'BF16',
    batch: 1,
    len: 256,
    budget: 2048,
    command: 'train',
    extra: ['--plan', 'layerwise', '--lr', '1e-3', '--max-grad-norm', '1', '--weight-decay', '0'],
    adamw: true,
  },
];

function py(args: string[]): string {
  const r = spawnSync(PY, ['tools/bench_memory.py', ...args], { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`bench_memory.py ${args[0]} failed: ${r.stderr}`);
  return r.stdout;
}

function model(c: Case): string {
  const dir = join(opts.models!, `${c.preset}-${c.dtype}`);
  if (!existsSync(join(dir, 'model.safetensors'))) {
    process.stderr.write(`writing ${dir} …\n`);
    py(['make', '--preset', c.preset, '--dtype', c.dtype, '--out', dir]);
  }
  return dir;
}

/** Pre-tokenized rows of exactly `len` random tokens (seeded), trained on every position. */
function data(c: Case, vocab: number): string {
  const file = join(opts.models!, `rows-${c.batch}x${c.len}-${vocab}.jsonl`);
  const rng = new Rng(7);
  const rows = Array.from({ length: c.batch }, () =>
    JSON.stringify({ input_ids: Array.from({ length: c.len }, () => Math.floor(rng.uniform() * vocab)) }),
  );
  writeFileSync(file, rows.join('\n') + '\n');
  return file;
}

/** Sum of the resident sets of every process in a process group, in bytes. */
function groupRss(pgid: number): number {
  let sum = 0;
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) !== pgid) continue; // field 5: pgrp
      sum += Number(readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ')[1]) * 4096;
    } catch {
      // the process ended between the listing and the read
    }
  }
  return sum;
}

/** Runs the CLI in its own process group, sampling the group's RSS every 50 ms. */
function runCli(args: string[]): Promise<{ code: number; peak: number; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('npm', ['run', '--silent', 'cli', '--', ...args], {
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.stdout.on('data', (d) => (stderr += d));
    let peak = 0;
    const timer = setInterval(() => (peak = Math.max(peak, groupRss(child.pid!))), 50);
    child.on('close', (code) => {
      clearInterval(timer);
      resolve({ code: code ?? -1, peak, stderr });
    });
  });
}

const MiB = 2 ** 20;
const results: Record<string, unknown>[] = [];
mkdirSync(opts.models!, { recursive: true });
for (const c of CASES) {
  if (opts.only && !c.name.includes(opts.only)) continue;
  const dir = model(c);
  const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  const rows = data(c, cfg.vocab_size);
  const out = join(opts.models!, 'out');
  const common = [
    '--model',
    dir,
    '--data',
    rows,
    '--backend',
    'cpu',
    '--memory-budget',
    String(c.budget),
    '--max-len',
    String(c.len),
    '--batch-size',
    String(c.batch),
  ];
  let torch: { loss: number; steps?: { loss: number; grad_norm: number }[] } = { loss: NaN };
  const extra = [...(c.extra ?? [])];
  if (c.adamw) {
    const init = join(opts.models!, 'adapter-init');
    torch = JSON.parse(
      py([
        'train',
        '--model',
        dir,
        '--data',
        rows,
        '--adapter-out',
        init,
        '--after-out',
        join(opts.models!, 'adapter-torch'),
      ]).trim(),
    );
    torch.loss = torch.steps![0].loss;
    extra.push('--init-adapter', init, '--steps', '2');
  }
  const args =
    c.command === 'train'
      ? [
          'train',
          ...common,
          '--out',
          out,
          '--rank',
          '16',
          '--alpha',
          '32',
          '--targets',
          'all-linear',
          '--dropout',
          '0',
          '--steps',
          '1',
          ...extra,
        ]
      : ['eval', ...common];
  const t0 = Date.now();
  const r = await runCli(args);
  const planLine = /memory: (.*)/.exec(r.stderr)?.[1] ?? '';
  const predicted = Number(/predicted peak (\d+) MiB/.exec(planLine)?.[1] ?? NaN);
  let ours = NaN;
  // PyTorch's loss on the same rows (only for a run that trained: a refused one has nothing to compare)
  if (r.code === 0 && !c.adamw)
    torch = JSON.parse(py(['loss', '--model', dir, '--data', rows]).trim().split('\n').pop()!);
  if (r.code === 0) {
    ours =
      c.command === 'train'
        ? JSON.parse(readFileSync(join(out, 'metrics.jsonl'), 'utf8').split('\n')[0]).loss
        : JSON.parse(r.stderr.trim().split('\n').pop()!).loss;
  }
  const row: Record<string, unknown> = {
    case: c.name,
    budget_mib: c.budget,
    peak_mib: Math.round(r.peak / MiB),
    predicted_mib: predicted,
    plan: planLine,
    loss: ours,
    torch_loss: torch.loss,
    rel_err: Math.abs(ours - torch.loss) / torch.loss,
    seconds: (Date.now() - t0) / 1000,
    ok: r.code === 0 && r.peak / MiB <= c.budget,
  };
  if (r.code !== 0) row.error = r.stderr.trim().split('\n').slice(-3).join(' | ');
  if (c.adamw && r.code === 0) {
    const m = readFileSync(join(out, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    row.steps = m.map((x, k) => ({
      loss: x.loss,
      torch: torch.steps![k].loss,
      grad_norm: x.grad_norm,
      torch_grad_norm: torch.steps![k].grad_norm,
    }));
    const cmp = spawnSync(
      PY,
      [
        'tools/compare_adapters.py',
        join(out, 'adapter_model.safetensors'),
        join(opts.models!, 'adapter-torch/adapter_model.safetensors'),
      ],
      { encoding: 'utf8' },
    );
    const [rel, abs] = cmp.stdout.trim().split(/\s+/).map(Number);
    row.adapter_max_rel_err = rel;
    row.adapter_max_abs_err = abs;
  }
  results.push(row);
  process.stdout.write(JSON.stringify(row) + '\n');
  writeFileSync(
    opts.json!,
    JSON.stringify({ machine: `${process.platform} ${process.arch}`, results }, null, 2) + '\n',
  );
}

process.stdout.write(
  '\n| case | budget MiB | measured peak MiB | predicted MiB | loss (ours) | loss (PyTorch) | rel. err |\n|---|--:|--:|--:|--:|--:|--:|\n',
);
for (const r of results)
  process.stdout.write(
    `| ${r.case} | ${r.budget_mib} | ${r.peak_mib} | ${r.predicted_mib} | ${Number(r.loss).toFixed(5)} | ${Number(r.torch_loss).toFixed(5)} | ${Number(r.rel_err).toExponential(1)} |\n`,
  );
