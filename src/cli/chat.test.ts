// A tiny model trained on a handful of chat pairs answers each trained prompt with its trained answer
// through `generate --chat`, and the base model does not (the whole path: messages rows, the chat template,
// trained spans, training, KV-cache generation, stop on the end-of-turn token).
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { makeTinyModel } from '../engine/testing/tiny-model';
import { writeTinyModel } from '../engine/testing/tiny-model_node';

const repo = join(__dirname, '../..');
let tmp: string;
const cli = (...args: string[]) => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(repo, 'src/cli/main.ts'), ...args], {
    cwd: repo,
    encoding: 'utf8',
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
};

const pairs = [
  ['What is the capital of France?', 'Paris is the capital of France.'],
  ['Name a primary colour.', 'Blue is a primary colour.'],
  ['How many legs does a spider have?', 'A spider has eight legs.'],
  ['Say hello in Spanish.', 'Hola!'],
];

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'lora-chat-'));
  await writeTinyModel(join(tmp, 'model'), makeTinyModel({ arch: 'qwen3', seed: 7 }));
  const rows = pairs.map(([q, a]) =>
    JSON.stringify({
      messages: [
        { role: 'user', content: q },
        { role: 'assistant', content: a },
      ],
    }),
  );
  writeFileSync(join(tmp, 'chat.jsonl'), rows.join('\n') + '\n');
});

describe('train on chat pairs, then generate --chat', () => {
  it('answers each trained prompt with its trained answer; the base model does not', () => {
    const model = join(tmp, 'model');
    const out = join(tmp, 'adapter');
    const t = cli(
      'train',
      '--model',
      model,
      '--data',
      join(tmp, 'chat.jsonl'),
      '--out',
      out,
      '--steps',
      '120',
      '--lr',
      '3e-3',
      '--rank',
      '16',
      '--alpha',
      '32',
      '--targets',
      'all-linear',
      '--dropout',
      '0',
      '--batch-size',
      '4',
      '--quiet',
    );
    expect(t.err).toBe('');
    expect(t.code).toBe(0);
    const stopped = cli(
      'generate',
      '--model',
      model,
      '--adapter',
      out,
      '--chat',
      pairs[0][0],
      '--stop',
      ' is',
      '--json',
    );
    expect(JSON.parse(stopped.out).text).toBe('Paris');
    for (const [q, a] of pairs) {
      const tuned = cli(
        'generate',
        '--model',
        model,
        '--adapter',
        out,
        '--chat',
        q,
        '--max-new-tokens',
        '40',
        '--json',
      );
      expect(tuned.code, tuned.err).toBe(0);
      expect(JSON.parse(tuned.out).text).toBe(a);
      const base = cli('generate', '--model', model, '--chat', q, '--max-new-tokens', '20', '--json');
      expect(JSON.parse(base.out).text).not.toBe(a);
    }
  });
});

describe('bad chat data', () => {
  const train = (file: string, text: string, model = join(tmp, 'model')) => {
    writeFileSync(join(tmp, file), text);
    return cli(
      'train',
      '--model',
      model,
      '--data',
      join(tmp, file),
      '--out',
      join(tmp, 'never'),
      '--steps',
      '1',
      '--quiet',
    );
  };
  const expectError = (r: ReturnType<typeof cli>, pattern: RegExp) => {
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(pattern);
    expect(r.err).not.toMatch(/\n\s+at /);
  };
  const ok = JSON.stringify({
    messages: [
      { role: 'user', content: 'hi' },
      { role: 'assistant', content: 'hello' },
    ],
  });
  it('an unknown row format names the line and the keys found', () => {
    expectError(
      train('unknown.jsonl', `${ok}\n{"question":"q","answer":"a"}\n`),
      /unknown\.jsonl:2: unknown row format \(keys: question, answer\)/,
    );
  });
  it('roles out of order name the line', () => {
    const bad = JSON.stringify({
      messages: [
        { role: 'assistant', content: 'x' },
        { role: 'user', content: 'y' },
      ],
    });
    expectError(train('order.jsonl', `${ok}\n${ok}\n${bad}\n`), /order\.jsonl:3: .*(order|start|user)/i);
  });
  it('an empty assistant turn names the line', () => {
    const bad = JSON.stringify({
      messages: [
        { role: 'user', content: 'x' },
        { role: 'assistant', content: '' },
      ],
    });
    expectError(train('empty.jsonl', `${bad}\n`), /empty\.jsonl:1: .*empty/i);
  });
  it('a chat template that fails to render names the line', () => {
    const dir = join(tmp, 'badtemplate');
    cpSync(join(tmp, 'model'), dir, { recursive: true });
    const cfg = JSON.parse(readFileSync(join(dir, 'tokenizer_config.json'), 'utf8'));
    cfg.chat_template = "{{ raise_exception('this template needs a system message') }}";
    writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify(cfg));
    expectError(
      train('t.jsonl', `${ok}\n`, dir),
      /t\.jsonl:1: chat template failed to render: .*needs a system message/,
    );
  });
  it('none of them wrote anything', () => {
    expect(existsSync(join(tmp, 'never'))).toBe(false);
  });
});
