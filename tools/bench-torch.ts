// The PyTorch reference of `npm run bench` (tools/bench_torch.py, Debian's python3-torch): a whole run for the
// decode figures, and a train server whose steps the bench interleaves with its own, one step each in turn, so
// that both sides see the same machine (a shared box's speed drifts by tens of percent within a minute).
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';

const PY = '/usr/bin/python3';
const SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'bench_torch.py');

export type Torch = Record<string, number | string | number[]>;

/** Why the reference cannot run here, or null. */
export function torchMissing(): string | null {
  const probe = spawnSync(PY, ['-c', 'import torch'], { stdio: 'ignore' });
  return probe.error || probe.status !== 0 ? `${PY} has no torch` : null;
}

/** One whole bench_torch.py run (its JSON), or why it failed. */
export function benchTorch(argv: (string | number)[]): Torch | string {
  const missing = torchMissing();
  if (missing) return missing;
  const r = spawnSync(PY, [SCRIPT, '--json', ...argv.map(String)], { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) return `bench_torch.py failed: ${(r.stderr || String(r.error)).trim().slice(-500)}`;
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Torch;
}

export interface TorchTrainer {
  info: Torch;
  /** one optimizer step on fresh rows: its time (ms) and loss */
  step(): Promise<{ ms: number; loss: number }>;
  close(): void;
}

/** Starts bench_torch.py --serve-train with these arguments; resolves once its model is built. */
export async function startTorchTrainer(argv: (string | number)[]): Promise<TorchTrainer> {
  const child = spawn(PY, [SCRIPT, '--serve-train', ...argv.map(String)], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const lines = readline.createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async (): Promise<Torch> => {
    const r = await lines.next();
    if (r.done) throw new Error(`bench_torch.py --serve-train ended: ${stderr.trim().slice(-500)}`);
    return JSON.parse(r.value) as Torch;
  };
  const info = await next();
  return {
    info,
    async step() {
      child.stdin.write('step\n');
      const r = await next();
      return { ms: r.ms as number, loss: r.loss as number };
    },
    close() {
      child.stdin.end();
    },
  };
}
