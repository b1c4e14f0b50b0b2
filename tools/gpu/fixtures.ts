// Files the GPU bundle carries for its transformers + peft stages, made here with the repo's own tooling:
// for a tiny Qwen2 (tied head) and a tiny Llama (untied head) — the model (tools/make-tiny-model.ts), an adapter
// trained a few steps by our CLI (B ≠ 0), our merged export, and our engine's logits for fixed ids (with the
// adapter, from the merged model, and from the base); plus a cluster recipe (`export --format recipe`) for
// the tiny Qwen2 on a few text rows. Usage: npx tsx tools/gpu/fixtures.ts OUT_DIR
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Generator } from '../../src/engine/generate/generator';
import { readAdapter } from '../../src/engine/io/peft';
import { dirSource } from '../../src/engine/io/source_node';
import { DeviceModel } from '../../src/engine/model/device';
import { createNodeRuntime } from '../../src/engine/runtime/node_node';
import { openModel } from '../../src/cli/context';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const out = path.resolve(process.argv[2] ?? 'tools/gpu/dist/fixtures');
fs.rmSync(out, { recursive: true, force: true });
fs.mkdirSync(out, { recursive: true });

const tsx = import.meta.resolve('tsx'); // absolute: the recipe is exported from its own folder
function run(args: string[], cwd = repo) {
  const r = spawnSync(process.execPath, ['--import', tsx, ...args], { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${args.join(' ')} failed:\n${r.stderr}`);
  return r.stdout;
}
const cli = path.join(repo, 'src/cli/main.ts');

const ROWS = [
  'The cat sat on the mat and looked at the door.',
  'A small boat crossed the lake before the storm.',
  'Bread is made from flour, water, salt and yeast.',
  'The library opens at nine and closes at five.',
  'Rivers carry water from the hills to the sea.',
  'She wrote the letter twice before sending it.',
].map((text) => JSON.stringify({ text }));
fs.writeFileSync(path.join(out, 'rows.jsonl'), ROWS.join('\n') + '\n');
const TRAIN = ['--steps', '3', '--lr', '0.02', '--rank', '4', '--alpha', '8', '--targets', 'all-linear'];
const SMALL = ['--batch-size', '2', '--max-len', '32', '--backend', 'cpu', '--quiet'];

/** Our engine's logits for `prompt` then 5 greedy tokens: (6, vocab), the ids, with an optional adapter. */
async function logits(modelDir: string, adapterDir: string | null, prompt: number[]) {
  const model = await openModel(modelDir, true);
  const rt = await createNodeRuntime({ backend: 'cpu', threads: 2 });
  const device = await DeviceModel.upload(rt, model);
  const gen = new Generator(device);
  if (adapterDir) {
    const a = await readAdapter(dirSource(adapterDir), model.config);
    await gen.setAdapter({ ...a.meta, weights: a.weights });
  }
  const rows: number[][] = [];
  const res = await gen.generate([prompt], {
    maxNewTokens: 6,
    stopIds: [],
    onLogits: (_, l) => void rows.push(Array.from(l, (x) => Number(x.toPrecision(9)))),
  });
  await gen.dispose();
  await device.dispose();
  await rt.release();
  return { ids: res.ids[0], logits: rows };
}

const cases = [
  { name: 'qwen2', args: ['--arch', 'qwen2'] },
  { name: 'llama', args: ['--arch', 'llama', '--untied'] },
];
for (const c of cases) {
  const dir = path.join(out, 'peft', c.name);
  const m = path.join(dir, 'model');
  run(['tools/make-tiny-model.ts', ...c.args, '--seed', '7', '--out', m]);
  run([
    cli,
    'train',
    '--model',
    m,
    '--data',
    path.join(out, 'rows.jsonl'),
    '--out',
    path.join(dir, 'adapter'),
    ...TRAIN,
    ...SMALL,
  ]);
  run([
    cli,
    'export',
    '--model',
    m,
    '--adapter',
    path.join(dir, 'adapter'),
    '--format',
    'merged',
    '--out',
    path.join(dir, 'merged'),
    '--quiet',
  ]);
  const prompt = [1, 17, 200, 33, 1500, 42, 7, 99];
  const withAdapter = await logits(m, path.join(dir, 'adapter'), prompt);
  const merged = await logits(path.join(dir, 'merged'), null, prompt);
  const base = await logits(m, null, prompt);
  // the rows transformers must reproduce: logits at positions len(prompt)-1 … of prompt + generated ids
  const input = [...prompt, ...withAdapter.ids.slice(0, -1)];
  fs.writeFileSync(
    path.join(dir, 'logits.json'),
    JSON.stringify({
      prompt_ids: prompt,
      input_ids: input,
      from_position: prompt.length - 1,
      ids: withAdapter.ids,
      adapter: withAdapter.logits,
      merged_ids: merged.ids,
      merged: merged.logits,
      base: base.logits,
    }),
  );
  for (const f of ['metrics.jsonl', 'checkpoint'])
    fs.rmSync(path.join(dir, 'adapter', f), { recursive: true, force: true });
  console.log(`${c.name}: ${withAdapter.ids.length} tokens, logits written`);
}

// The cluster recipe for the tiny Qwen2: BASE_MODEL "base" is the model folder beside the scripts.
const recipe = path.join(out, 'recipe');
fs.mkdirSync(recipe, { recursive: true });
fs.cpSync(path.join(out, 'peft', 'qwen2', 'model'), path.join(recipe, 'base'), { recursive: true });
run(
  [
    cli,
    'export',
    '--model',
    'base',
    '--format',
    'recipe',
    '--data',
    path.join(out, 'rows.jsonl'),
    '--out',
    'bundle',
    ...[
      '--steps',
      '4',
      '--lr',
      '0.01',
      '--rank',
      '4',
      '--alpha',
      '8',
      '--targets',
      'all-linear',
      '--dropout',
      '0',
    ],
    ...['--batch-size', '2', '--max-len', '32', '--no-shuffle', '--quiet'],
  ],
  recipe,
);
console.log(`recipe written to ${recipe}`);
process.exit(0);
