// `train` checkpoints as a user meets them (a child process): a run killed mid-way keeps its time-based
// checkpoint (--checkpoint-seconds) and resuming it ends with the uninterrupted run's adapter bytes; a
// checkpoint refuses a changed dataset with one line and writes nothing; a NaN step from an absurd learning
// rate ends the run with one line naming the step, the last good state checkpointed.
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

const repo = join(__dirname, '../..');
const model = join(repo, 'tests/fixtures/golden/llama_tied/model');
const data = join(repo, 'tests/fixtures/golden/llama_tied/data.jsonl');
const main = join(repo, 'src/cli/main.ts');
const env = () => ({
  ...process.env,
  LORA_STUDIO_CACHE: join(tmp, 'cache'),
  HF_ENDPOINT: 'http://127.0.0.1:9',
});
let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'lora-ckpt-'));
});

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', main, ...args], {
    cwd: repo,
    encoding: 'utf8',
    env: env(),
  });
  return { code: r.status, err: r.stderr };
}

/** Runs `train` and kills it (as a crash would) once it reports step `killAt`. */
function crashAt(killAt: number, ...args: string[]): Promise<string> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', main, 'train', ...args], {
      cwd: repo,
      env: env(),
    });
    let err = '';
    child.stderr.on('data', (b: Buffer) => {
      err += b.toString();
      const steps = [...err.matchAll(/^step (\d+)\//gm)].map((m) => Number(m[1]));
      if (steps.length && Math.max(...steps) >= killAt) child.kill('SIGKILL');
    });
    child.on('exit', () => resolve(err));
  });
}

const common = ['--model', model, '--batch-size', '2', '--rank', '4', '--targets', 'all-linear'];
const stateOf = (dir: string) => JSON.parse(readFileSync(join(dir, 'checkpoint/trainer_state.json'), 'utf8'));
const lossesOf = (dir: string) =>
  readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => [JSON.parse(l).step, JSON.parse(l).loss]);
const adapterOf = (dir: string) => readFileSync(join(dir, 'adapter_model.safetensors'));
/** The checkpoint's tensor file (LoRA weights and AdamW moments), named by its state file. */
const tensorsOf = (dir: string) => readFileSync(join(dir, 'checkpoint', stateOf(dir).tensors));
const filesOf = (dir: string) => ({
  ...Object.fromEntries(
    ['adapter_model.safetensors', 'metrics.jsonl', 'checkpoint/trainer_state.json'].map((f) => [
      f,
      readFileSync(join(dir, f)).toString('base64'),
    ]),
  ),
  tensors: tensorsOf(dir).toString('base64'),
});

describe('cli train checkpoints', () => {
  it('--checkpoint-seconds: a run killed mid-way resumes from its timed checkpoint to the same adapter', async () => {
    const args = [...common, '--data', data, '--lr', '1e-3', '--dropout', '0.1', '--steps', '300'];
    expect(cli('train', ...args, '--out', join(tmp, 'full'), '--quiet').code).toBe(0);

    const cut = join(tmp, 'cut');
    await crashAt(60, ...args, '--out', cut, '--checkpoint-seconds', '0.05');
    const kept = stateOf(cut).step;
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(300);
    appendFileSync(join(cut, 'metrics.jsonl'), '{"step":'); // as if killed in the middle of a line
    const r = cli('train', ...args, '--out', cut, '--init-adapter', cut, '--quiet');
    expect(r.err).toBe('');
    expect(stateOf(cut).step).toBe(300);
    expect(adapterOf(cut).equals(adapterOf(join(tmp, 'full')))).toBe(true);
    // one metrics line per step: the steps logged after the checkpoint were trained again, not logged twice
    expect(lossesOf(cut)).toEqual(lossesOf(join(tmp, 'full')));

    // with both kinds of checkpoint off, a crash keeps nothing to resume from
    const none = join(tmp, 'none');
    await crashAt(60, ...args, '--out', none, '--checkpoint-seconds', '0', '--checkpoint-every', '0');
    expect(existsSync(join(none, 'checkpoint'))).toBe(false);
  }, 120_000);

  it('a checkpoint refuses a changed dataset: one line, non-zero exit, nothing written', () => {
    const run = join(tmp, 'fp');
    const args = [...common, '--lr', '1e-3', '--quiet'];
    expect(cli('train', ...args, '--data', data, '--out', run, '--steps', '2').code).toBe(0);
    const before = filesOf(run);
    const lines = readFileSync(data, 'utf8').trim().split('\n');
    const row = JSON.parse(lines[2]);
    row.labels[row.labels.length - 1] = 7; // one label edited
    lines[2] = JSON.stringify(row);
    const edited = join(tmp, 'edited.jsonl');
    writeFileSync(edited, lines.join('\n') + '\n');

    for (const out of [run, join(tmp, 'fp-elsewhere')]) {
      const r = cli('train', ...args, '--data', edited, '--init-adapter', run, '--out', out, '--steps', '4');
      expect(r.code).toBe(1);
      expect(r.err).toBe(
        'error: the dataset changed since the checkpoint of step 2 was saved: resume with the data it was ' +
          'trained on, or start a new run\n',
      );
    }
    expect(filesOf(run)).toEqual(before);
    expect(existsSync(join(tmp, 'fp-elsewhere'))).toBe(false);
    // the original data resumes
    expect(
      cli('train', ...args, '--data', data, '--init-adapter', run, '--out', run, '--steps', '4').code,
    ).toBe(0);
    expect(stateOf(run).step).toBe(4);
  }, 120_000);

  it('a NaN loss from --lr 1e30: the step is not applied, the last good state is checkpointed, exit 1', () => {
    const args = [...common, '--data', data, '--lr', '1e30', '--dropout', '0', '--quiet'];
    const one = join(tmp, 'nan-one');
    expect(cli('train', ...args, '--out', one, '--steps', '1').code).toBe(0);
    const out = join(tmp, 'nan');
    const r = cli('train', ...args, '--out', out, '--steps', '5');
    expect(r.code).toBe(1);
    expect(r.err).toBe(
      'error: step 2: the loss was NaN, so its update was not applied; the run is paused at step 1, its last ' +
        `good state. Try a lower learning rate (this run's is 1e+30). Its checkpoint is in ${out} ` +
        '(resume with --init-adapter).\n',
    );
    expect(stateOf(out).step).toBe(1);
    expect(adapterOf(out).equals(adapterOf(one))).toBe(true);
    expect(tensorsOf(out)).toEqual(tensorsOf(one));
    expect(readdirSync(out).sort()).toEqual([
      'adapter_config.json',
      'adapter_model.safetensors',
      'checkpoint',
      'metrics.jsonl',
    ]);
  }, 120_000);
});
