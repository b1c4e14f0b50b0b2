// The CLI as a user runs it (a child process): train → eval → export → resume, and every kind of bad
// input answered with one clear line, a non-zero exit, no stack trace and nothing written.
import { spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

const repo = join(__dirname, '../..');
const golden = join(repo, 'tests/fixtures/golden');
const model = join(golden, 'llama_tied/model');
const data = join(golden, 'llama_tied/data.jsonl');
let tmp: string;

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(repo, 'src/cli/main.ts'), ...args], {
    cwd: repo,
    encoding: 'utf8',
    env: { ...process.env, LORA_STUDIO_CACHE: join(tmp, 'cache'), HF_ENDPOINT: 'http://127.0.0.1:9' },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}
const put = (name: string, text: string) => {
  const p = join(tmp, name);
  writeFileSync(p, text);
  return p;
};
function expectCleanError(r: ReturnType<typeof cli>, pattern: RegExp) {
  expect(r.code).not.toBe(0);
  expect(r.err).toMatch(pattern);
  expect(r.err).not.toMatch(/\n\s+at /); // no stack trace
}

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'lora-cli-'));
});

describe('cli train / eval / export', () => {
  it('trains, writes PEFT files and metrics, and eval agrees with the last training loss', () => {
    const out = join(tmp, 'run1');
    const r = cli(
      'train',
      '--model',
      model,
      '--data',
      data,
      '--out',
      out,
      '--steps',
      '4',
      '--lr',
      '1e-2',
      '--targets',
      'all-linear',
      '--rank',
      '4',
      '--dropout',
      '0',
      '--no-shuffle',
      '--batch-size',
      '4',
      '--quiet',
    );
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(readdirSync(out).sort()).toEqual([
      'adapter_config.json',
      'adapter_model.safetensors',
      'checkpoint',
      'metrics.jsonl',
    ]);
    const metrics = readFileSync(join(out, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(metrics.map((m) => m.step)).toEqual([1, 2, 3, 4]);
    for (const m of metrics)
      for (const k of ['loss', 'lr', 'grad_norm', 'tokens', 'ms']) expect(typeof m[k]).toBe('number');
    expect(metrics[3].loss).toBeLessThan(metrics[0].loss);
    const cfg = JSON.parse(readFileSync(join(out, 'adapter_config.json'), 'utf8'));
    expect(cfg).toMatchObject({
      peft_type: 'LORA',
      task_type: 'CAUSAL_LM',
      r: 4,
      lora_alpha: 16,
      bias: 'none',
      use_rslora: false,
    });
    const ev = cli('eval', '--model', model, '--adapter', out, '--data', data);
    expect(ev.code).toBe(0);
    const last = JSON.parse(ev.out.trim().split('\n').pop()!);
    expect(last.tokens).toBe(metrics[0].tokens);
    expect(last.loss).toBeLessThan(metrics[3].loss); // the adapter after step 4 is better than before it
    const exp = cli(
      'export',
      '--model',
      model,
      '--adapter',
      out,
      '--format',
      'peft',
      '--out',
      join(tmp, 'exported'),
    );
    expect(exp.code).toBe(0);
    expect(readFileSync(join(tmp, 'exported/adapter_model.safetensors'))).toEqual(
      readFileSync(join(out, 'adapter_model.safetensors')),
    );
  });

  it('holds out a validation split and reports its loss', () => {
    const out = join(tmp, 'val');
    const r = cli(
      'train',
      '--model',
      model,
      '--data',
      data,
      '--out',
      out,
      '--steps',
      '2',
      '--val-split',
      '0.25',
      '--eval-every',
      '1',
      '--quiet',
    );
    expect(r.code).toBe(0);
    const metrics = readFileSync(join(out, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(metrics).toHaveLength(2);
    for (const m of metrics) expect(m.val_loss).toBeGreaterThan(0);
  });

  it('resuming from a checkpoint gives the same run as not stopping', () => {
    const args = [
      '--model',
      model,
      '--data',
      data,
      '--lr',
      '1e-2',
      '--targets',
      'q_proj,v_proj',
      '--rank',
      '4',
      '--batch-size',
      '2',
      '--dropout',
      '0.1',
      '--quiet',
    ];
    expect(cli('train', ...args, '--out', join(tmp, 'full'), '--steps', '6').code).toBe(0);
    expect(cli('train', ...args, '--out', join(tmp, 'half'), '--steps', '3').code).toBe(0);
    cpSync(join(tmp, 'half'), join(tmp, 'resumed'), { recursive: true });
    const r = cli(
      'train',
      ...args,
      '--out',
      join(tmp, 'resumed'),
      '--init-adapter',
      join(tmp, 'resumed'),
      '--steps',
      '6',
    );
    expect(r.err).toBe('');
    const a = readFileSync(join(tmp, 'full/adapter_model.safetensors'));
    const b = readFileSync(join(tmp, 'resumed/adapter_model.safetensors'));
    expect(b.equals(a)).toBe(true);
    const losses = (f: string) =>
      readFileSync(f, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).loss);
    expect(losses(join(tmp, 'resumed/metrics.jsonl'))).toEqual(losses(join(tmp, 'full/metrics.jsonl')));
  });
});

describe('cli bad input', () => {
  const train = (...extra: string[]) =>
    cli('train', '--model', model, '--data', data, '--steps', '1', '--quiet', ...extra);
  const cases: [string, () => ReturnType<typeof cli>, RegExp][] = [
    [
      'unsupported architecture',
      () => {
        const dir = join(tmp, 'gpt2');
        cpSync(model, dir, { recursive: true });
        const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
        writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...cfg, model_type: 'gpt2' }));
        return cli('train', '--model', dir, '--data', data, '--out', join(tmp, 'o-gpt2'), '--quiet');
      },
      /unsupported architecture 'gpt2'.*llama, qwen2, qwen3/,
    ],
    [
      'missing config',
      () => {
        const dir = join(tmp, 'noconfig');
        mkdirSync(dir);
        writeFileSync(join(dir, 'model.safetensors'), '');
        return cli('train', '--model', dir, '--data', data, '--out', join(tmp, 'o-nc'));
      },
      /no config\.json/,
    ],
    [
      'truncated safetensors',
      () => {
        const dir = join(tmp, 'trunc');
        cpSync(model, dir, { recursive: true });
        const b = readFileSync(join(dir, 'model.safetensors'));
        writeFileSync(join(dir, 'model.safetensors'), b.subarray(0, 100));
        return cli('train', '--model', dir, '--data', data, '--out', join(tmp, 'o-trunc'));
      },
      /model\.safetensors: .*(header|bytes|truncated)/i,
    ],
    [
      'lying safetensors header',
      () => {
        const dir = join(tmp, 'lying');
        cpSync(model, dir, { recursive: true });
        const b = Buffer.from(readFileSync(join(dir, 'model.safetensors')));
        b.writeBigUInt64LE(1n << 40n, 0);
        writeFileSync(join(dir, 'model.safetensors'), b);
        return cli('train', '--model', dir, '--data', data, '--out', join(tmp, 'o-lying'));
      },
      /model\.safetensors: header/,
    ],
    [
      'malformed JSONL (line number)',
      () =>
        train(
          '--out',
          join(tmp, 'o-bad'),
          '--data',
          put('bad.jsonl', '{"input_ids":[1,2,3]}\n{"input_ids": [1,\n'),
        ),
      /bad\.jsonl:2: .*JSON/,
    ],
    [
      'nothing to train on',
      () =>
        train(
          '--out',
          join(tmp, 'o-empty'),
          '--data',
          put('empty.jsonl', '{"input_ids":[1,2,3],"labels":[-100,-100,-100]}\n'),
        ),
      /nothing to train on/,
    ],
    ['lr ≤ 0', () => train('--out', join(tmp, 'o-lr'), '--lr', '0'), /^error: --lr must be > 0 \(got 0\)$/m],
    [
      'rank ≤ 0',
      () => train('--out', join(tmp, 'o-rank'), '--rank', '0'),
      /^error: --rank must be a positive integer \(got 0\)$/m,
    ],
    [
      '--grad-accum 0, named by its flag',
      () => train('--out', join(tmp, 'o-acc'), '--grad-accum', '0'),
      /^error: --grad-accum must be a positive integer \(got 0\)$/m,
    ],
    [
      '--val-split 1, named by its flag',
      () => train('--out', join(tmp, 'o-val'), '--val-split', '1'),
      /^error: --val-split must be in \[0, 1\) \(got 1\)$/m,
    ],
    [
      'init adapter that does not fit the base',
      () => train('--out', join(tmp, 'o-init'), '--init-adapter', join(golden, 'qwen2/adapter_init')),
      /shape .* but the base model needs/,
    ],
    [
      'unknown target',
      () => train('--out', join(tmp, 'o-t'), '--targets', 'embed_tokens'),
      /unknown LoRA target 'embed_tokens'/,
    ],
    [
      'a number that is not one',
      () => train('--out', join(tmp, 'o-n'), '--lr', 'fast'),
      /--lr expects a number/,
    ],
    [
      'peft export without an adapter',
      () => cli('export', '--model', model, '--format', 'peft', '--out', join(tmp, 'o-x')),
      /needs --adapter/,
    ],
    [
      '--top-p 2, named by its flag',
      () => cli('generate', '--model', model, '--prompt', 'hi', '--top-p', '2'),
      /^error: --top-p must be in \[0, 1\] \(got 2\)$/m,
    ],
    [
      'eval --max-len 0, named by its flag',
      () => cli('eval', '--model', model, '--data', data, '--max-len', '0'),
      /^error: --max-len must be a positive integer \(got 0\)$/m,
    ],
    [
      'Hub unreachable',
      () => cli('eval', '--model', 'someone/some-model', '--data', data),
      /127\.0\.0\.1:9|reach|network/i,
    ],
  ];
  for (const [name, run, pattern] of cases) {
    it(name, () => {
      const r = run();
      expectCleanError(r, pattern);
      for (const o of [
        'o-gpt2',
        'o-nc',
        'o-trunc',
        'o-lying',
        'o-bad',
        'o-empty',
        'o-lr',
        'o-rank',
        'o-acc',
        'o-val',
        'o-init',
        'o-t',
        'o-n',
        'o-x',
      ]) {
        expect(existsSync(join(tmp, o)), `${o} must not be created`).toBe(false);
      }
    });
  }
});
