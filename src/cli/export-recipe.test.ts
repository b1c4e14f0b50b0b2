// `export --format recipe`: the CLI writes the cluster bundle (engine/export/recipes.ts) for a local model
// folder or a Hub repo id (kept as the id; only config and tokenizer files are fetched), with the train
// flags; refuses a non-empty folder without --force, drops stale bundle files with it, and rejects train
// flags on the other formats.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHubServer } from '../../e2e/hub-server';
import { exportCmd } from './export';

const repo = join(__dirname, '../..');
const model = join(repo, 'tests/fixtures/golden/llama_tied/model');
const data = join(repo, 'tests/fixtures/golden/llama_tied/data.jsonl');
let tmp: string;

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'lora-recipe-cli-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(repo, 'src/cli/main.ts'), ...args], {
    cwd: repo,
    encoding: 'utf8',
    env: { ...process.env, LORA_STUDIO_CACHE: join(tmp, 'cache'), HF_ENDPOINT: 'http://127.0.0.1:9' },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('export --format recipe', () => {
  it('writes the bundle with the train flags, refuses a non-empty folder, and --force replaces it', () => {
    const out = join(tmp, 'bundle');
    const flags = ['--rank', '4', '--lr', '2e-4', '--steps', '30', '--no-shuffle', '--targets', 'all-linear'];
    const args = ['export', '--model', model, '--format', 'recipe', '--data', data, '--out', out, '--quiet'];
    let r = cli(...args, ...flags);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const py = readFileSync(join(out, 'train_trl.py'), 'utf8');
    expect(py).toContain(`BASE_MODEL = ${JSON.stringify(model)}`);
    for (const s of ['r=4,', 'learning_rate=0.0002,', 'max_steps=30,', 'SHUFFLE = False', '"all-linear"'])
      expect(py).toContain(s);
    expect(readFileSync(join(out, 'axolotl.yaml'), 'utf8')).toContain('lora_target_linear: true\n');
    expect(readFileSync(join(out, 'data.jsonl'), 'utf8')).toBe(readFileSync(data, 'utf8'));
    // token rows only: Axolotl gets its pre-tokenized file; the model has no chat template
    expect(existsSync(join(out, 'axolotl/tokens.jsonl'))).toBe(true);
    expect(existsSync(join(out, 'chat_template.jinja'))).toBe(false);

    r = cli(...args);
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(/is not empty; use --force/);
    writeFileSync(join(out, 'chat_template.jinja'), 'stale');
    r = cli(...args, '--force', '--rank', '16');
    expect(r.code).toBe(0);
    expect(readFileSync(join(out, 'train_trl.py'), 'utf8')).toContain('r=16,');
    expect(existsSync(join(out, 'chat_template.jinja'))).toBe(false);
  });

  it('answers bad combinations with one clear line', () => {
    const out = join(tmp, 'bad');
    let r = cli('export', '--model', model, '--format', 'peft', '--out', out, '--rank', '4');
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(/--rank is only for --format recipe/);
    r = cli('export', '--model', model, '--format', 'recipe', '--out', out);
    expect(r.err).toMatch(/missing --data/);
    r = cli(
      'export',
      '--model',
      model,
      '--format',
      'recipe',
      '--out',
      out,
      '--data',
      data,
      '--schedule',
      'x',
    );
    expect(r.err).toBe("error: unknown --schedule 'x'; use constant, linear or cosine\n");
    expect(existsSync(out)).toBe(false);
  });

  it('keeps a Hub id as the base model and takes the repo chat template, fetching no weights', async () => {
    const dir = join(tmp, 'hub/acme/tiny-chat');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'config.json'), readFileSync(join(model, 'config.json')));
    const template = "{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}";
    writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ chat_template: template }));
    writeFileSync(join(dir, 'model.safetensors'), 'not fetched');
    const hub = await startHubServer({ port: 0, root: join(tmp, 'hub') });
    const env = { HF_ENDPOINT: process.env.HF_ENDPOINT, LORA_STUDIO_CACHE: process.env.LORA_STUDIO_CACHE };
    process.env.HF_ENDPOINT = hub.url;
    process.env.LORA_STUDIO_CACHE = join(tmp, 'cache-hub');
    try {
      const chat = join(tmp, 'chat.jsonl');
      writeFileSync(chat, JSON.stringify({ instruction: 'hi', output: 'yo' }) + '\n');
      const out = join(tmp, 'hub-bundle');
      await exportCmd({ model: 'acme/tiny-chat', format: 'recipe', out, data: chat, train: {}, quiet: true });
      expect(readFileSync(join(out, 'train_trl.py'), 'utf8')).toContain('BASE_MODEL = "acme/tiny-chat"');
      expect(readFileSync(join(out, 'axolotl.yaml'), 'utf8')).toContain('base_model: "acme/tiny-chat"\n');
      expect(readFileSync(join(out, 'chat_template.jinja'), 'utf8')).toBe(template);
      expect(hub.log.some((l) => l.path.endsWith('model.safetensors'))).toBe(false);
    } finally {
      for (const [k, v] of Object.entries(env)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
      await hub.close();
    }
  });
});
