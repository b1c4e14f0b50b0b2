// Expected HF tensor names per architecture, and loadModel on tiny models built in memory (single file,
// two shards, BF16, F16) through memorySource and dirSource, plus the ways a model folder can be broken.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { UserError } from '../errors';
import { bf16ToF32, f32ToBf16 } from '../io/dtype';
import { writeSafetensors, type StWriteTensor } from '../io/safetensors';
import { memorySource } from '../io/source';
import { dirSource } from '../io/source_node';
import { parseConfig } from './config';
import { expectedWeights, loadModel, type LoadedModel } from './weights';

const TINY = {
  hidden_size: 8,
  intermediate_size: 12,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  vocab_size: 10,
  eos_token_id: [2, 3],
};

const values = (n: number, seed: number) =>
  Float32Array.from({ length: n }, (_, i) => Math.sin(seed + i * 0.37));

type Files = Record<string, Uint8Array | string>;

/** A model folder: config.json plus weights for exactly expectedWeights (plus `extra` tensors). */
function tinyModel(
  config: Record<string, unknown>,
  opts: { dtype?: 'F32' | 'F16' | 'BF16'; shards?: number; extra?: Record<string, StWriteTensor> } = {},
): Files {
  const expected = expectedWeights(parseConfig(config));
  const tensors: Record<string, StWriteTensor> = { ...opts.extra };
  let seed = 0;
  for (const [name, shape] of expected) {
    tensors[name] = {
      dtype: opts.dtype ?? 'F32',
      shape,
      data: values(
        shape.reduce((a, b) => a * b, 1),
        seed++,
      ),
    };
  }
  const files: Files = { 'config.json': JSON.stringify(config) };
  const shards = opts.shards ?? 1;
  if (shards === 1) {
    files['model.safetensors'] = writeSafetensors(tensors, { format: 'pt' });
    return files;
  }
  const names = Object.keys(tensors);
  const weight_map: Record<string, string> = {};
  for (let s = 0; s < shards; s++) {
    const file = `model-0000${s + 1}-of-0000${shards}.safetensors`;
    const part = names.filter((_, i) => i % shards === s);
    files[file] = writeSafetensors(Object.fromEntries(part.map((n) => [n, tensors[n]])));
    for (const n of part) weight_map[n] = file;
  }
  files['model.safetensors.index.json'] = JSON.stringify({ metadata: { total_size: 0 }, weight_map });
  return files;
}

async function loadErr(files: Files): Promise<string> {
  const e = await loadModel(memorySource(files, 'tiny')).then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(UserError);
  return (e as Error).message;
}

function checkValues(m: LoadedModel, round: (x: number) => number = Math.fround) {
  let seed = 0;
  for (const [name, shape] of expectedWeights(m.config)) {
    const w = m.weights.get(name)!;
    expect(w.shape, name).toEqual(shape);
    const want = values(w.data.length, seed++).map(round);
    expect(
      Buffer.compare(
        Buffer.from(w.data.buffer, w.data.byteOffset, w.data.byteLength),
        Buffer.from(want.buffer),
      ),
      name,
    ).toBe(0);
  }
}

describe('expectedWeights', () => {
  it('lists llama tensors with [out, in] shapes, lm_head only when untied', () => {
    const w = expectedWeights(parseConfig({ model_type: 'llama', ...TINY }));
    expect(w.size).toBe(1 + 2 * 9 + 1 + 1);
    expect(w.get('model.embed_tokens.weight')).toEqual([10, 8]);
    expect(w.get('model.layers.1.self_attn.q_proj.weight')).toEqual([8, 8]);
    expect(w.get('model.layers.1.self_attn.k_proj.weight')).toEqual([4, 8]); // 2 kv heads × head_dim 2
    expect(w.get('model.layers.1.self_attn.o_proj.weight')).toEqual([8, 8]);
    expect(w.get('model.layers.0.mlp.gate_proj.weight')).toEqual([12, 8]);
    expect(w.get('model.layers.0.mlp.down_proj.weight')).toEqual([8, 12]);
    expect(w.get('model.layers.0.input_layernorm.weight')).toEqual([8]);
    expect(w.get('model.norm.weight')).toEqual([8]);
    expect(w.get('lm_head.weight')).toEqual([10, 8]);
    const tied = expectedWeights(parseConfig({ model_type: 'llama', ...TINY, tie_word_embeddings: true }));
    expect(tied.has('lm_head.weight')).toBe(false);
    const biased = expectedWeights(
      parseConfig({ model_type: 'llama', ...TINY, attention_bias: true, mlp_bias: true }),
    );
    expect(biased.get('model.layers.0.self_attn.o_proj.bias')).toEqual([8]);
    expect(biased.get('model.layers.0.mlp.down_proj.bias')).toEqual([8]);
  });

  it('adds q/k/v biases for qwen2 and q/k norms with explicit head_dim for qwen3', () => {
    const q2 = expectedWeights(parseConfig({ model_type: 'qwen2', ...TINY }));
    expect(q2.get('model.layers.0.self_attn.q_proj.bias')).toEqual([8]);
    expect(q2.get('model.layers.0.self_attn.v_proj.bias')).toEqual([4]);
    expect(q2.has('model.layers.0.self_attn.o_proj.bias')).toBe(false);
    const q3 = expectedWeights(parseConfig({ model_type: 'qwen3', ...TINY, head_dim: 6 }));
    expect(q3.get('model.layers.0.self_attn.q_proj.weight')).toEqual([24, 8]);
    expect(q3.get('model.layers.0.self_attn.o_proj.weight')).toEqual([8, 24]);
    expect(q3.get('model.layers.0.self_attn.k_norm.weight')).toEqual([6]);
    expect(q3.has('model.layers.0.self_attn.q_proj.bias')).toBe(false);
  });
});

describe('loadModel', () => {
  const llama = { model_type: 'llama', ...TINY };

  it('loads a single-file F32 model with its tokenizer and generation files', async () => {
    const files = tinyModel(llama, {
      extra: {
        'model.layers.0.self_attn.rotary_emb.inv_freq': {
          dtype: 'F32',
          shape: [1],
          data: new Float32Array(1),
        },
      },
    });
    files['tokenizer.json'] = '{"model":{}}';
    files['tokenizer_config.json'] = JSON.stringify({ chat_template: 'from config', eos_token: '</s>' });
    files['generation_config.json'] = '{"eos_token_id":[2,3]}';
    const m = await loadModel(memorySource(files));
    expect(m.config.model_type).toBe('llama');
    expect([...m.weights.keys()]).toEqual([...expectedWeights(m.config).keys()]);
    checkValues(m);
    expect(m.files).toEqual({
      tokenizerJson: '{"model":{}}',
      tokenizerConfig: { chat_template: 'from config', eos_token: '</s>' },
      chatTemplate: 'from config',
      generationConfig: { eos_token_id: [2, 3] },
    });
  });

  it('prefers chat_template.jinja over tokenizer_config, and reads the named-template list form', async () => {
    const files = tinyModel(llama);
    files['tokenizer_config.json'] = JSON.stringify({
      chat_template: [
        { name: 'tool_use', template: 'tools' },
        { name: 'default', template: 'default one' },
      ],
    });
    expect((await loadModel(memorySource(files))).files.chatTemplate).toBe('default one');
    files['chat_template.jinja'] = 'from jinja file';
    const m = await loadModel(memorySource(files));
    expect(m.files.chatTemplate).toBe('from jinja file');
    expect(m.files.generationConfig).toBeUndefined();
    expect('generationConfig' in m.files).toBe(false);
  });

  it('loads a two-shard model, reporting progress over all weight files', async () => {
    const files = tinyModel(llama, { shards: 2 });
    const sizes = Object.entries(files)
      .filter(([k]) => k.endsWith('.safetensors'))
      .reduce((a, [, v]) => a + (v as Uint8Array).length, 0);
    const progress: [number, number, string][] = [];
    const m = await loadModel(memorySource(files), (l, t, f) => progress.push([l, t, f]));
    checkValues(m);
    expect(progress.at(-1)!.slice(0, 2)).toEqual([sizes, sizes]);
    expect(progress.every(([, t]) => t === sizes)).toBe(true);
    for (let i = 1; i < progress.length; i++)
      expect(progress[i][0]).toBeGreaterThanOrEqual(progress[i - 1][0]);
    expect(new Set(progress.map((p) => p[2])).size).toBe(2);
  });

  it('converts BF16 (qwen2, with biases) and F16 (qwen3) to float32', async () => {
    const q2 = await loadModel(memorySource(tinyModel({ model_type: 'qwen2', ...TINY }, { dtype: 'BF16' })));
    expect(q2.weights.has('model.layers.1.self_attn.k_proj.bias')).toBe(true);
    checkValues(q2, (x) => bf16ToF32(f32ToBf16(x)));
    const q3 = await loadModel(
      memorySource(tinyModel({ model_type: 'qwen3', ...TINY, head_dim: 4 }, { dtype: 'F16' })),
    );
    expect(q3.weights.get('model.layers.0.self_attn.q_norm.weight')!.shape).toEqual([4]);
    const w = q3.weights.get('model.embed_tokens.weight')!.data;
    expect(w[1]).not.toBe(Math.fround(Math.sin(0.37))); // rounded to F16
    expect(w[1]).toBeCloseTo(Math.sin(0.37), 3);
  });

  it('reads each tensor on its own: from disk every tensor owns a buffer of its size, from memory a view', async () => {
    const big = { model_type: 'llama', ...TINY, hidden_size: 64, intermediate_size: 128, vocab_size: 256 };
    const files = tinyModel(big);
    const m = await loadModel(memorySource(files));
    checkValues(m);
    // In memory the file is already held: F32 tensors are views into it, not copies.
    expect(new Set([...m.weights.values()].map((w) => w.data.buffer))).toEqual(
      new Set([(files['model.safetensors'] as Uint8Array).buffer]),
    );
    const dir = await mkdtemp(join(tmpdir(), 'model-test-'));
    try {
      for (const [name, data] of Object.entries(files)) await writeFile(join(dir, name), data);
      const fromDisk = await loadModel(dirSource(dir));
      checkValues(fromDisk);
      for (const w of fromDisk.weights.values()) expect(w.data.buffer.byteLength).toBe(w.data.byteLength);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('accepts a tied model that still ships lm_head.weight', async () => {
    const tied = { ...llama, tie_word_embeddings: true };
    const files = tinyModel(tied, {
      extra: { 'lm_head.weight': { dtype: 'F32', shape: [10, 8], data: new Float32Array(80) } },
    });
    const m = await loadModel(memorySource(files));
    expect(m.weights.has('lm_head.weight')).toBe(false);
    checkValues(m);
  });

  describe('from a folder on disk', () => {
    let dir = '';
    afterAll(() => (dir ? rm(dir, { recursive: true, force: true }) : undefined));
    it('gives the same model as from memory', async () => {
      dir = await mkdtemp(join(tmpdir(), 'model-test-'));
      const files = tinyModel({ model_type: 'qwen2', ...TINY }, { shards: 2, dtype: 'BF16' });
      for (const [name, data] of Object.entries(files)) await writeFile(join(dir, name), data);
      const fromDisk = await loadModel(dirSource(dir));
      const fromMem = await loadModel(memorySource(files));
      expect(fromDisk.config).toEqual(fromMem.config);
      expect(fromDisk.weights).toEqual(fromMem.weights);
      expect(await loadErrDir(join(dir, 'missing'))).toBe(
        `${join(dir, 'missing')}: no config.json: not a model folder`,
      );
    });
  });

  it('says clearly what is wrong with a broken model folder', async () => {
    expect(await loadErr({ 'model.safetensors': new Uint8Array(8) })).toBe(
      'tiny: no config.json: not a model folder',
    );
    expect(await loadErr({ 'config.json': '{"model_type":' })).toMatch(/^config.json: not valid JSON/);
    expect(await loadErr({ 'config.json': JSON.stringify({ ...TINY, model_type: 'gpt2' }) })).toBe(
      "config.json: unsupported architecture 'gpt2' (model_type); supported: llama, qwen2, qwen3",
    );
    expect(await loadErr({ 'config.json': JSON.stringify(llama) })).toBe(
      'tiny: no model.safetensors or model.safetensors.index.json: safetensors weights are needed',
    );
    expect(await loadErr({ 'config.json': JSON.stringify(llama), 'pytorch_model.bin': '' })).toMatch(
      /only pytorch_model.bin, which is not supported/,
    );

    const missing = tinyModel({ ...llama, tie_word_embeddings: true });
    const wrongCfg = { ...llama, tie_word_embeddings: false }; // now lm_head.weight is expected
    expect(await loadErr({ ...missing, 'config.json': JSON.stringify(wrongCfg) })).toBe(
      "model.safetensors: missing tensor 'lm_head.weight'",
    );
    expect(
      await loadErr({
        ...missing,
        'config.json': JSON.stringify({ ...llama, tie_word_embeddings: true, intermediate_size: 16 }),
      }),
    ).toBe(
      "model.safetensors: tensor 'model.layers.0.mlp.gate_proj.weight' has shape [12, 8], expected [16, 8] from config.json",
    );
    const st = missing['model.safetensors'] as Uint8Array;
    expect(await loadErr({ ...missing, 'model.safetensors': st.slice(0, st.length - 10) })).toMatch(
      /^model.safetensors: tensor '.*': data_offsets \[\d+, \d+\] run past the end of the data \(\d+ bytes\): truncated file\?$/,
    );
    expect(await loadErr({ ...missing, 'model.safetensors': st.slice(0, 100) })).toMatch(
      /^model.safetensors: header says \d+ bytes but the file has 100$/,
    );
  });

  it('says clearly what is wrong with a broken shard index', async () => {
    const files = tinyModel(llama, { shards: 2 });
    const index = JSON.parse(files['model.safetensors.index.json'] as string);
    const drop = { ...index.weight_map };
    delete drop['model.norm.weight'];
    expect(
      await loadErr({ ...files, 'model.safetensors.index.json': JSON.stringify({ weight_map: drop }) }),
    ).toBe("model.safetensors.index.json: missing tensor 'model.norm.weight'");
    const { 'model-00002-of-00002.safetensors': _, ...oneShard } = files;
    expect(await loadErr(oneShard)).toBe(
      'tiny: shard model-00002-of-00002.safetensors listed in model.safetensors.index.json is missing',
    );
    const escape = { ...index.weight_map, 'model.norm.weight': '../../etc/passwd' };
    expect(
      await loadErr({ ...files, 'model.safetensors.index.json': JSON.stringify({ weight_map: escape }) }),
    ).toMatch(/bad file path '..\/..\/etc\/passwd'/);
    expect(await loadErr({ ...files, 'model.safetensors.index.json': '{}' })).toBe(
      "model.safetensors.index.json: missing 'weight_map' object",
    );
    // The index points a tensor at a shard that does not hold it.
    const shardNames = ['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors'];
    const other = shardNames.find((f) => f !== index.weight_map['model.norm.weight'])!;
    const wrong = { ...index.weight_map, 'model.norm.weight': other };
    expect(
      await loadErr({ ...files, 'model.safetensors.index.json': JSON.stringify({ weight_map: wrong }) }),
    ).toBe(`${other}: missing tensor 'model.norm.weight'`);
  });
});

async function loadErrDir(dir: string): Promise<string> {
  const e = await loadModel(dirSource(dir)).then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(UserError);
  return (e as Error).message;
}
