// `data dedupe|score|generate|stats|template` as a user runs them: the last stdout line's JSON, rows
// written unchanged, IFD from the same trained span as training (checked against `eval` on the two
// sub-rows), Self-Instruct on the embedded model, cancel, and bad input answered with one line, nothing written.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadModel } from '../engine/model/weights';
import { dirSource } from '../engine/io/source_node';
import { encodeRow } from '../engine/text/encode';
import { loadTokenizer } from '../engine/text/tokenizer';
import { pickChatTemplate } from '../engine/text/template';
import { parseDatasetStrict } from '../data/formats';
import { normalizeRow } from '../data/rows';
import { rougeLF } from '../data/rouge';
import { instructionOf } from '../data/instruction';
import { trainedSpans } from '../engine/eval/score';

const repo = join(__dirname, '../..');
const model = join(repo, 'tests/fixtures/tiny-chat');
let tmp: string;
const args = (...a: string[]) => ['--import', 'tsx', join(repo, 'src/cli/main.ts'), ...a];
function cli(...a: string[]) {
  const r = spawnSync(process.execPath, args(...a), { cwd: repo, encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}
const lastJson = (out: string) => JSON.parse(out.trim().split('\n').pop()!);
const put = (name: string, rows: unknown[]) => {
  const p = join(tmp, name);
  writeFileSync(p, rows.map((r) => JSON.stringify(r) + '\n').join(''));
  return p;
};
const readJsonl = (p: string) =>
  readFileSync(p, 'utf8')
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
function expectCleanError(r: ReturnType<typeof cli>, pattern: RegExp) {
  expect(r.code).not.toBe(0);
  expect(r.err).toMatch(pattern);
  expect(r.err).not.toMatch(/\n\s+at /);
}

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'lora-data-'));
});

describe('cli data', () => {
  it('dedupe keeps rows unchanged and in order, and says how many went', () => {
    const rows = [
      { instruction: 'List three birds.', output: 'robin', extra: { keep: 'me' } },
      { instruction: 'list three birds!', output: 'wren' },
      {
        messages: [
          { role: 'user', content: 'Explain rain.' },
          { role: 'assistant', content: 'Water.' },
        ],
      },
      { instruction: 'List three birds.', output: 'robin', extra: { keep: 'me' } },
    ];
    const out = join(tmp, 'dedup.jsonl');
    const r = cli('data', 'dedupe', '--data', put('dup.jsonl', rows), '--out', out);
    expect(r.code, r.err).toBe(0);
    expect(lastJson(r.out)).toEqual({ kept: 2, removed: 2 });
    expect(readJsonl(out)).toEqual([rows[0], rows[2]]);

    // --out naming the input (by another path) is refused, and the input stays as it was
    const input = put('same.jsonl', rows);
    const before = readFileSync(input);
    const same = cli('data', 'dedupe', '--data', input, '--out', `${tmp}/./same.jsonl`);
    expectCleanError(same, /^error: --out .*same\.jsonl is the --data file: write to another file/m);
    expect(readFileSync(input)).toEqual(before);
  }, 60_000);

  it('score adds IFD from the trained span training uses: the ratio of two `eval` losses', async () => {
    const rows = [
      {
        messages: [
          { role: 'user', content: 'Name a colour.' },
          { role: 'assistant', content: 'Blue, like the sky.' },
        ],
      },
      { instruction: 'Say hi', output: 'Hello there, friend.' },
      { text: 'A text row has one span from its first token.' },
    ];
    const data = put('score.jsonl', rows);
    const out = join(tmp, 'scored.jsonl');
    const r = cli('data', 'score', '--model', model, '--data', data, '--out', out);
    expect(r.code, r.err).toBe(0);
    expect(lastJson(r.out)).toEqual({ rows: 3, scored: 3 });
    const scored = readJsonl(out);
    expect(scored.map(({ ifd: _, ...rest }) => rest)).toEqual(rows);
    // the row as training encodes it: its trained span, then the two sub-rows through `eval`
    const m = await loadModel(dirSource(model));
    const tokenizer = loadTokenizer(m.files.tokenizerJson!, m.files.tokenizerConfig);
    const template = pickChatTemplate(m.files.tokenizerConfig, m.files.chatTemplate);
    const [row] = parseDatasetStrict(readFileSync(data, 'utf8'), 'score.jsonl');
    const e = encodeRow(row, {
      tokenizer,
      template,
      templateKwargs: { enable_thinking: false },
      maxLen: 1024,
      trainOnPrompt: false,
    });
    const [[s, end]] = trainedSpans(e.labels);
    expect(tokenizer.decode(e.input_ids.slice(s, end))).toBe('Blue, like the sky.<|im_end|>\n');
    const ids = e.input_ids.slice(0, end);
    const conditioned = put('c.jsonl', [{ input_ids: ids, labels: ids.map((x, t) => (t > s ? x : -100)) }]);
    const alone = put('a.jsonl', [
      { input_ids: ids.slice(s), labels: ids.slice(s).map((x, t) => (t > 0 ? x : -100)) },
    ]);
    const lc = lastJson(cli('eval', '--model', model, '--data', conditioned).out).loss;
    const la = lastJson(cli('eval', '--model', model, '--data', alone).out).loss;
    expect(Math.abs(scored[0].ifd - lc / la) / (lc / la)).toBeLessThan(1e-5);
    expect(scored[2].ifd).toBe(1); // a span starting at token 0: the same context both ways
  }, 120_000);

  it('stats reports rows, kinds, tokens, histogram, duplicates and leading verbs', () => {
    const chat = (q: string, a: string) => ({
      messages: [
        { role: 'user', content: q },
        { role: 'assistant', content: a },
      ],
    });
    const data = put('stats.jsonl', [
      chat('Define the word cat.', 'A small feline.'),
      chat('define the word cat', 'A pet.'), // near duplicate
      { instruction: 'List two colours.', output: 'Red and blue.' },
      { text: 'Plain text.' },
    ]);
    const r = cli('data', 'stats', '--data', data, '--model', model);
    expect(r.code, r.err).toBe(0);
    const s = lastJson(r.out);
    expect(Object.keys(s)).toEqual([
      'rows', 'kinds', 'tokens', 'trained_tokens', 'length_histogram', 'duplicates', 'leading_verbs',
    ]); // prettier-ignore
    expect(s.rows).toBe(4);
    expect(s.kinds).toEqual({ messages: 2, alpaca: 1, text: 1 });
    expect(s.trained_tokens).toBeGreaterThan(0);
    expect(s.trained_tokens).toBeLessThan(s.tokens);
    expect(s.length_histogram.unit).toBe('tokens');
    expect(s.length_histogram.bins.reduce((a: number, b: { count: number }) => a + b.count, 0)).toBe(4);
    expect(s.duplicates).toEqual({ exact: 0, near: 1, threshold: 0.7 });
    expect(s.leading_verbs).toMatchObject({ rows_with_instruction: 3, distinct: 2 });
  }, 60_000);

  it('template makes alpaca rows from CSV columns; a missing column is one line and writes nothing', () => {
    const csv = join(tmp, 'words.csv');
    writeFileSync(csv, 'word,meaning\ncat,a small feline\nrun,move fast\n');
    const out = join(tmp, 'templ.jsonl');
    const r = cli('data', 'template', '--data', csv, '--instruction', 'Define "{word}".', '--instruction',
      'What does {word} mean?', '--output', '{meaning}', '--out', out); // prettier-ignore
    expect(r.code, r.err).toBe(0);
    expect(lastJson(r.out)).toEqual({ rows: 2, skipped: 0 });
    const made = readJsonl(out);
    expect(made.map((x) => x.output)).toEqual(['a small feline', 'move fast']);
    expect(made[0].instruction).toMatch(/^(Define "cat"\.|What does cat mean\?)$/);
    const bad = join(tmp, 'bad.jsonl');
    const b = cli(
      'data',
      'template',
      '--data',
      csv,
      '--instruction',
      'Define {wrd}.',
      '--output',
      '{meaning}',
      '--out',
      bad,
    );
    expectCleanError(
      b,
      /^error: instruction template names the column \{wrd\}, which the data does not have \(columns: word, meaning\)\n/,
    );
    expect(existsSync(bad)).toBe(false);
  }, 60_000);

  it('generate keeps valid, dissimilar rows on the embedded model and counts rejections', () => {
    const seeds = put('seeds.jsonl', [
      { instruction: 'Name three kinds of trees.', output: 'oak, ash, elm' },
      { instruction: 'Write a short poem about the sea.', output: 'waves...' },
      {
        messages: [
          { role: 'user', content: 'Explain why the sky is blue.' },
          { role: 'assistant', content: 'Light.' },
        ],
      },
    ]);
    const out = join(tmp, 'gen.jsonl');
    const r = cli('data', 'generate', '--model', model, '--seed-tasks', seeds, '--n', '2', '--max-attempts', '6',
      '--temperature', '1', '--out', out); // prettier-ignore
    expect(r.code, r.err).toBe(0);
    const j = lastJson(r.out);
    expect(Object.keys(j)).toEqual(['kept', 'attempts', 'rejected']);
    expect(j.attempts).toBeLessThanOrEqual(6);
    const counted = Object.values(j.rejected as Record<string, number>).reduce((a, b) => a + b, 0);
    expect(j.kept + counted).toBe(j.attempts);
    const kept = readJsonl(out);
    expect(kept).toHaveLength(j.kept);
    const texts = [...readJsonl(seeds), ...kept].map((x) => instructionOf(x)!);
    for (const row of kept) {
      expect(normalizeRow(row).ok).toBe(true);
      expect(row.output.trim()).not.toBe('');
    }
    for (let i = 3; i < texts.length; i++)
      for (let k = 0; k < i; k++) expect(rougeLF(texts[k], texts[i])).toBeLessThan(0.7);
  }, 120_000);

  it('generate: a seed file without instructions is one line; Ctrl-C keeps what was kept', async () => {
    const out = join(tmp, 'none.jsonl');
    const r = cli(
      'data',
      'generate',
      '--model',
      model,
      '--seed-tasks',
      put('s.jsonl', [{ text: 'x' }]),
      '--n',
      '3',
      '--out',
      out,
    );
    expectCleanError(r, /^error: the seed tasks have no instruction/);
    expect(existsSync(out)).toBe(false);

    const seeds = put('seeds2.jsonl', [{ prompt: 'Name three kinds of trees.', completion: 'oak' }]);
    const p = spawn(process.execPath, args('data', 'generate', '--model', model, '--seed-tasks', seeds, '--n', '1000',
      '--max-attempts', '100000', '--out', out), { cwd: repo }); // prettier-ignore
    let stdout = '';
    p.stdout.on('data', (d) => (stdout += d));
    await new Promise((res) => setTimeout(res, 12_000));
    p.kill('SIGINT');
    const code = await new Promise((res) => p.on('close', res));
    expect(code).toBe(0);
    const j = lastJson(stdout);
    expect(j.cancelled).toBe(true);
    expect(j.attempts).toBeGreaterThan(0);
    expect(readJsonl(out)).toHaveLength(j.kept);
  }, 120_000);
});
