// `evaluate` as a user runs it, on the embedded model: an adapter that memorised three rows scores exact = 1
// on them while the base scores 0; predictions equal `generate --chat`; the summary loss equals `eval`'s;
// the report has exactly the keys of DESIGN §9; contamination is warned about; bad input is one clear line.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

const repo = join(__dirname, '../..');
const model = join(repo, 'tests/fixtures/tiny-chat');
const rows = join(repo, 'e2e/fixtures/memorise.jsonl');
let tmp: string;
const adapter = () => join(tmp, 'adapter');

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(repo, 'src/cli/main.ts'), ...args], {
    cwd: repo,
    encoding: 'utf8',
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}
const lastJson = (out: string) => JSON.parse(out.trim().split('\n').pop()!);

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'lora-evaluate-'));
  const r = cli(
    'train', '--model', model, '--data', rows, '--out', adapter(), '--steps', '60', '--lr', '1e-2',
    '--rank', '8', '--alpha', '16', '--targets', 'all-linear', '--dropout', '0', '--batch-size', '3', '--quiet',
  ); // prettier-ignore
  expect(r.code, r.err).toBe(0);
}, 120_000);

describe('cli evaluate', () => {
  it('scores a memorising adapter exact = 1 where the base scores 0, with the report of DESIGN §9', () => {
    const out = join(tmp, 'report.json');
    const r = cli(
      'evaluate', '--model', model, '--adapter', adapter(), '--compare', '--data', rows, '--out', out,
      '--max-new-tokens', '24', '--train-data', rows,
    ); // prettier-ignore
    expect(r.code, r.err).toBe(0);
    const report = JSON.parse(readFileSync(out, 'utf8'));
    expect(Object.keys(report)).toEqual(['rows', 'summary']);
    expect(report.rows).toHaveLength(3);
    for (const row of report.rows) {
      expect(Object.keys(row).sort()).toEqual([
        'base',
        'exact',
        'loss',
        'prediction',
        'prompt',
        'reference',
        'rougeL',
      ]);
      expect(Object.keys(row.base).sort()).toEqual(['exact', 'loss', 'prediction', 'rougeL']);
      expect(row.exact).toBe(true);
      expect(row.prediction).toBe(row.reference);
      expect(row.base.exact).toBe(false);
      expect(row.prompt).toContain('assistant');
    }
    expect(report.rows.map((x: { reference: string }) => x.reference)).toEqual([
      'The sky is blue.',
      'An apple.',
      'Goodbye, see you soon!',
    ]);
    expect(report.summary).toMatchObject({ n: 3, exact: 1, rougeL: 1, base: { exact: 0 } });
    expect(report.summary.base.rougeL).toBeLessThan(0.5);
    expect(report.summary.base.loss).toBeGreaterThan(report.summary.loss + 1);
    expect(lastJson(r.out)).toEqual(report.summary);
    // held-out prompts equal to training prompts are flagged
    expect(r.err).toMatch(/warning: possible contamination: memorise\.jsonl:1 has ROUGE-L 1\.00/);

    // predictions are what `generate --chat` gives for the same prompt, tuned and base
    const asked = [
      ['What color is the sky?', report.rows[0].prediction, ['--adapter', adapter()]],
      ['Say goodbye.', report.rows[2].base.prediction, []],
    ] as const;
    for (const [chat, prediction, extra] of asked) {
      const g = cli(
        'generate',
        '--model',
        model,
        ...extra,
        '--chat',
        chat,
        '--max-new-tokens',
        '24',
        '--json',
      );
      expect(g.code, g.err).toBe(0);
      expect(lastJson(g.out).text).toBe(prediction);
    }
    // the summary loss is the eval loss of the file (Σ CE / Σ tokens)
    const e = cli('eval', '--model', model, '--adapter', adapter(), '--data', rows);
    expect(e.code, e.err).toBe(0);
    expect(Math.abs(lastJson(e.out).loss - report.summary.loss) / lastJson(e.out).loss).toBeLessThan(1e-4);
  }, 180_000);

  it('refuses a dataset without reference answers, and --compare without an adapter, writing nothing', () => {
    const data = join(tmp, 'text.jsonl');
    writeFileSync(data, '{"text": "just some text"}\n');
    const out = join(tmp, 'none.json');
    const r = cli('evaluate', '--model', model, '--data', data, '--out', out);
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(/^error: text\.jsonl:1: a text row has no reference answer: evaluate needs rows/);
    expect(r.err).not.toMatch(/\n\s+at /);
    const c = cli('evaluate', '--model', model, '--compare', '--data', rows, '--out', out);
    expect(c.err).toMatch(/^error: --compare needs --adapter/);
    expect(existsSync(out)).toBe(false);
  }, 60_000);
});
