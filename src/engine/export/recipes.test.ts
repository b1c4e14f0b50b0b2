// The cluster bundle (recipes.ts): the exact Axolotl YAML of a fixed config, every hyperparameter in both
// recipes (read back by Python's ast and PyYAML through tools/check_recipes.py when python3 is there),
// numbers written exactly, data.jsonl round-tripping through parseDataset, the split files Axolotl needs,
// and the TRL script's own tokenization giving the same labels as encode.ts (character tokenizer, ChatML).
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDataset, parseDatasetStrict } from '../../data/formats';
import type { Row } from '../../data/rows';
import { UserError } from '../errors';
import { encodeDataset } from '../text/encode';
import type { TextTokenizer } from '../text/tokenizer';
import { resolveTrainConfig, type TrainConfig } from '../train/config';
import { clusterRecipe, type RecipeInput } from './recipes';
import { yamlFloat } from './recipe-values';

const repo = join(__dirname, '../../..');
const CHATML =
  "{% for m in messages %}{{ '<|im_start|>' + m['role'] + '\\n' + m['content'] + '<|im_end|>\\n' }}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";
const line = (o: unknown) => JSON.stringify(o);
const rowsOf = (...objs: unknown[]) => parseDatasetStrict(objs.map(line).join('\n'), 'd.jsonl');
const chatRows = rowsOf(
  { instruction: 'Say hi', output: 'Hi!' },
  {
    messages: [
      { role: 'user', content: 'a' },
      { role: 'assistant', content: 'b' },
    ],
  },
);
const recipe = (over: Partial<RecipeInput> = {}, train: Partial<TrainConfig> = {}) =>
  clusterRecipe({
    baseModel: 'HuggingFaceTB/SmolLM2-135M-Instruct',
    train: resolveTrainConfig(train),
    rows: chatRows,
    modelType: 'llama',
    chatTemplate: CHATML,
    ...over,
  });

// Debian's python3 has PyYAML (Axolotl's reader); any python3 checks the script.
const python = ['/usr/bin/python3', 'python3'].find((p) => spawnSync(p, ['--version']).status === 0);
let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'lora-recipe-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function writeBundle(name: string, files: Record<string, string>): string {
  const dir = join(tmp, name);
  for (const [f, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, f)), { recursive: true });
    writeFileSync(join(dir, f), text);
  }
  return dir;
}

interface Checked {
  constants: Record<string, unknown>;
  lora: Record<string, unknown>;
  sft: Record<string, unknown>;
  yaml: Record<string, unknown> | null;
  examples: { input_ids: number[]; labels: number[] }[];
  skipped: number;
}
function check(dir: string): Checked {
  const r = spawnSync(python!, [join(repo, 'tools/check_recipes.py'), dir], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout) as Checked;
}

/** Top-level `key: value` lines of the YAML (the tiny reader: enough for the flat keys). */
function topLevel(yaml: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of yaml.split('\n')) {
    const m = /^([a-z_0-9]+): (.*?)(\s+#.*)?$/.exec(l);
    if (m) out[m[1]] = m[2];
  }
  return out;
}

describe('axolotl.yaml', () => {
  it('is exactly this for the default settings on chat rows', () => {
    expect(recipe()['axolotl.yaml'])
      .toBe(`# Axolotl config: LoRA fine-tuning of HuggingFaceTB/SmolLM2-135M-Instruct with the settings of a LoRA Studio run.
# Install (after a CUDA build of torch): pip install --no-build-isolation "axolotl[flash-attn]==0.18.0"
# Run from this folder: axolotl train axolotl.yaml
base_model: "HuggingFaceTB/SmolLM2-135M-Instruct"

chat_template: jinja
chat_template_jinja: ./chat_template.jinja
datasets:
  - path: data.jsonl
    ds_type: json
    type: chat_template
    field_messages: messages
    roles_to_train: ["assistant"]
    train_on_eos: turn
train_on_inputs: false
val_set_size: 0.0
dataset_prepared_path: ./last_run_prepared
shuffle_merged_datasets: true
output_dir: ./axolotl-out

sequence_len: 1024
sample_packing: false

adapter: lora
lora_r: 8
lora_alpha: 16
lora_dropout: 0.05
lora_target_modules: ["q_proj", "v_proj"]
peft_use_rslora: false

micro_batch_size: 4
gradient_accumulation_steps: 1
num_epochs: 1.0
optimizer: adamw_torch
learning_rate: 0.0002
lr_scheduler: constant
warmup_steps: 0
weight_decay: 0.0
max_grad_norm: 1.0  # 0 = no clipping
seed: 0

bf16: auto
tf32: false
gradient_checkpointing: true
logging_steps: 1
`);
  });

  it('carries every hyperparameter of a non-default run', () => {
    const f = recipe(
      {},
      {
        rank: 16,
        alpha: 32,
        dropout: 0.1,
        targets: ['v_proj', 'q_proj', 'down_proj'],
        rslora: true,
        lr: 1e-7,
        weightDecay: 0.01,
        batchSize: 2,
        gradAccum: 8,
        maxLen: 512,
        schedule: 'cosine',
        warmup: 10,
        maxGradNorm: 0,
        steps: 100,
        seed: 42,
        shuffle: false,
        valSplit: 0.1,
        trainOnPrompt: true,
        packing: true,
        evalEvery: 20,
        checkpointEvery: 50,
      },
    );
    const y = f['axolotl.yaml'];
    expect(topLevel(y)).toMatchObject({
      lora_r: '16',
      lora_alpha: '32',
      lora_dropout: '0.1',
      lora_target_modules: '["q_proj", "v_proj", "down_proj"]',
      peft_use_rslora: 'true',
      learning_rate: '1.0e-7',
      weight_decay: '0.01',
      micro_batch_size: '2',
      gradient_accumulation_steps: '8',
      sequence_len: '512',
      lr_scheduler: 'cosine',
      warmup_steps: '10',
      max_grad_norm: '0.0',
      max_steps: '100',
      seed: '42',
      shuffle_merged_datasets: 'false',
      curriculum_sampling: 'true',
      val_set_size: '0.1',
      train_on_inputs: 'true',
      sample_packing: 'true',
      sample_packing_sequentially: 'true',
      eval_steps: '20',
      save_steps: '50',
      optimizer: 'adamw_torch',
    });
    expect(y).not.toMatch(/^num_epochs/m);
    const py = f['train_trl.py'];
    for (const s of [
      'r=16,',
      'lora_alpha=32,',
      'lora_dropout=0.1,',
      'target_modules=["q_proj", "v_proj", "down_proj"],',
      'use_rslora=True,',
      'learning_rate=1e-7,',
      'weight_decay=0.01,',
      'per_device_train_batch_size=2,',
      'gradient_accumulation_steps=8,',
      'MAX_LENGTH = 512',
      'lr_scheduler_type="cosine",',
      'warmup_steps=10,',
      'max_grad_norm=0.0,',
      'max_steps=100,',
      'SEED = 42',
      'SHUFFLE = False',
      'VAL_SPLIT = 0.1',
      'TRAIN_ON_PROMPT = True',
      'PACKING = True',
      'eval_steps=20,',
      'save_steps=50,',
    ])
      expect(py).toContain(s);
    expect(py).not.toContain('num_train_epochs=');
  });

  it('names all-linear, warmup under a constant schedule and a model without template as Axolotl needs', () => {
    const y = topLevel(
      recipe({ chatTemplate: undefined }, { targets: 'all-linear', warmup: 3 })['axolotl.yaml'],
    );
    expect(y.lora_target_linear).toBe('true');
    expect(y.lora_target_modules).toBeUndefined();
    expect(y.lr_scheduler).toBe('constant_with_warmup');
    expect(y.chat_template_jinja).toContain('eos_token');
    const kw = recipe({ modelType: 'qwen3' })['axolotl.yaml'];
    expect(kw).toContain('chat_template_kwargs:\n  enable_thinking: false\n');
  });
});

describe('numbers', () => {
  it('are written as exact literals Python and YAML 1.1 read back as the same double', () => {
    for (const [x, y] of [
      [2e-4, '0.0002'],
      [1e-7, '1.0e-7'],
      [3e-5, '0.00003'],
      [1, '1.0'],
      [0.1, '0.1'],
      [1e21, '1.0e+21'],
    ] as const)
      expect(yamlFloat(x)).toBe(y);
    const f = recipe({}, { lr: 2e-4 });
    expect(f['train_trl.py']).toContain('learning_rate=0.0002,');
    expect(f['axolotl.yaml']).toContain('learning_rate: 0.0002\n');
  });
});

describe('train_trl.py', () => {
  it.skipIf(!python)('is valid Python, and ast / PyYAML read back the settings', () => {
    const f = recipe({ modelType: 'qwen3' }, { lr: 2e-4, rank: 4, alpha: 8, steps: 7, valSplit: 0.25 });
    const dir = writeBundle('settings', f);
    const ast = spawnSync(
      python!,
      ['-c', 'import ast,sys; ast.parse(open(sys.argv[1]).read())', join(dir, 'train_trl.py')],
      { encoding: 'utf8' },
    );
    expect(ast.stderr).toBe('');
    expect(ast.status).toBe(0);
    const c = check(dir);
    expect(c.constants).toMatchObject({
      BASE_MODEL: 'HuggingFaceTB/SmolLM2-135M-Instruct',
      TEMPLATE_KWARGS: { enable_thinking: false },
      MAX_LENGTH: 1024,
      VAL_SPLIT: 0.25,
      SEED: 0,
      SHUFFLE: true,
      PACKING: false,
      TRAIN_ON_PROMPT: false,
    });
    expect(c.lora).toEqual({
      r: 4,
      lora_alpha: 8,
      lora_dropout: 0.05,
      target_modules: ['q_proj', 'v_proj'],
      use_rslora: false,
      bias: 'none',
      task_type: 'CAUSAL_LM',
    });
    expect(c.sft).toMatchObject({
      learning_rate: 2e-4,
      weight_decay: 0,
      per_device_train_batch_size: 4,
      gradient_accumulation_steps: 1,
      lr_scheduler_type: 'constant',
      warmup_steps: 0,
      max_grad_norm: 1,
      max_steps: 7,
      assistant_only_loss: false,
      optim: 'adamw_torch',
    });
    if (c.yaml) {
      expect(c.yaml).toMatchObject({
        base_model: 'HuggingFaceTB/SmolLM2-135M-Instruct',
        learning_rate: 2e-4,
        lora_r: 4,
        lora_alpha: 8,
        lora_dropout: 0.05,
        max_steps: 7,
        val_set_size: 0.25,
        chat_template_kwargs: { enable_thinking: false },
        datasets: [{ path: 'data.jsonl', type: 'chat_template', roles_to_train: ['assistant'] }],
      });
    }
  });

  const BOS = 2;
  const EOS = 3;
  const charTokenizer: TextTokenizer = {
    vocabSize: 0x10000,
    encode: (text, opts) => [
      ...((opts?.addSpecialTokens ?? true) ? [BOS] : []),
      ...[...text].map((ch) => ch.codePointAt(0)!),
    ],
    decode: (ids) => String.fromCodePoint(...ids),
    tokenToId: () => undefined,
    idToToken: (id) => (id === BOS ? '<s>' : id === EOS ? '</s>' : undefined),
    bosId: BOS,
    eosId: EOS,
  };
  const mixed = rowsOf(
    { instruction: 'Say hi', input: 'to Bob', output: 'Hi Bob!', system: 'Be brief.' },
    {
      messages: [
        { role: 'user', content: 'one' },
        { role: 'assistant', content: 'two' },
        { role: 'user', content: 'three' },
        { role: 'assistant', content: 'four' },
      ],
    },
    { text: `plain text that runs on and on past the maximum length: ${'and on '.repeat(12)}` },
    { input_ids: [5, 6, 7, 8], labels: [-100, -100, 7, 8] },
    { instruction: 'x'.repeat(120), output: 'cut away' },
  );

  for (const [name, template, trainOnPrompt] of [
    ['chat template', CHATML, false],
    ['chat template, prompt trained', CHATML, true],
    ['no template', undefined, false],
  ] as const) {
    it.skipIf(!python)(`tokenizes rows to the labels encode.ts gives (${name})`, () => {
      const train = resolveTrainConfig({ maxLen: 96, trainOnPrompt });
      const dir = writeBundle(`labels-${name}`, recipe({ rows: mixed, chatTemplate: template }, train));
      const c = check(dir);
      const ours = encodeDataset(mixed, { tokenizer: charTokenizer, template, maxLen: 96, trainOnPrompt });
      expect(c.skipped).toBe(ours.stats.droppedEmpty);
      expect(c.examples).toEqual(ours.examples.map((e) => ({ input_ids: e.input_ids, labels: e.labels })));
      expect(c.examples.length).toBeGreaterThanOrEqual(3); // chat, text and token rows all compared
      expect(ours.stats.truncated).toBeGreaterThan(0);
    });
  }
});

describe('data', () => {
  const mixed: Row[] = rowsOf(
    { prompt: 'p', completion: 'c' },
    {
      conversations: [
        { from: 'human', value: 'h' },
        { from: 'gpt', value: 'g' },
      ],
    },
    { text: 't' },
    { input_ids: [1, 2, 3] },
    { input_ids: [1, 2, 3], labels: [-100, 2, 3] },
  );

  it('data.jsonl round-trips through parseDataset', () => {
    const f = recipe({ rows: mixed });
    const back = parseDataset(f['data.jsonl'], 'data.jsonl');
    expect(back.errors).toEqual([]);
    const body = (r: Row) =>
      r.kind === 'chat'
        ? { kind: r.kind, messages: r.messages }
        : r.kind === 'text'
          ? { kind: r.kind, text: r.text }
          : { kind: r.kind, input_ids: r.input_ids, labels: r.labels };
    expect(back.rows.map(body)).toEqual(mixed.map(body));
    expect(f['data.jsonl'].split('\n')[0]).toBe(
      line({
        messages: [
          { role: 'user', content: 'p' },
          { role: 'assistant', content: 'c' },
        ],
      }),
    );
  });

  it('splits a mixed file per row kind for Axolotl, with attention_mask on token rows', () => {
    const f = recipe({ rows: mixed });
    expect(Object.keys(f).sort()).toEqual([
      'README.md',
      'axolotl.yaml',
      'axolotl/chat.jsonl',
      'axolotl/text.jsonl',
      'axolotl/tokens.jsonl',
      'chat_template.jinja',
      'data.jsonl',
      'train_hf.py',
      'train_trl.py',
    ]);
    expect(f['axolotl/chat.jsonl'].trim().split('\n')).toHaveLength(2);
    expect(f['axolotl/text.jsonl']).toBe(line({ text: 't' }) + '\n');
    expect(f['axolotl/tokens.jsonl'].split('\n')[1]).toBe(
      line({ input_ids: [1, 2, 3], attention_mask: [1, 1, 1], labels: [-100, 2, 3] }),
    );
    const y = f['axolotl.yaml'];
    expect(y).toContain('  - path: axolotl/text.jsonl\n    ds_type: json\n    type: completion\n');
    expect(y).toContain('  - path: axolotl/tokens.jsonl\n    ds_type: json\n    type:  # pre-tokenized\n');
    expect(f['README.md']).toContain('- `axolotl/tokens.jsonl`');
  });

  it('writes no chat_template.jinja for a model without one, and refuses an empty dataset', () => {
    expect(recipe({ chatTemplate: undefined })['chat_template.jinja']).toBeUndefined();
    expect(() => recipe({ rows: [] })).toThrow(UserError);
  });
});
