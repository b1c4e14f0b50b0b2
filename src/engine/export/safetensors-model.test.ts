// Merged or base models written as HF folders and read back by our loader: same weights (exactly in F32,
// as rounded in F16/BF16), config.json as the source's with torch_dtype updated, sharding with an index as
// transformers writes it, and the tokenizer / template / generation files copied.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bf16ToF32, f16ToF32, f32ToBf16, f32ToF16 } from '../io/dtype';
import { readAdapter } from '../io/peft';
import { memorySource } from '../io/source';
import { dirSource } from '../io/source_node';
import { loadModel, type LoadedModel, type LoadedTensor } from '../model/weights';
import { makeTinyModel } from '../testing/tiny-model';
import { mergeAdapter } from './merge';
import { fileBytes } from './output';
import { configJsonFrom, hfModelFiles, type HfModelOptions } from './safetensors-model';

const golden = join(__dirname, '../../../tests/fixtures/golden');

async function roundTrip(model: LoadedModel, opts: HfModelOptions) {
  const files = Object.fromEntries(hfModelFiles(model, opts).map((f) => [f.path, fileBytes(f)]));
  return { files, back: await loadModel(memorySource(files)) };
}

function expectWeights(
  got: Map<string, LoadedTensor>,
  want: Map<string, LoadedTensor>,
  round = (x: number) => x,
) {
  expect([...got.keys()]).toEqual([...want.keys()]);
  for (const [name, t] of want) {
    expect(got.get(name)!.shape).toEqual(t.shape);
    const g = got.get(name)!.data;
    for (let i = 0; i < t.data.length; i++) if (g[i] !== round(t.data[i])) throw new Error(`${name}[${i}]`);
  }
}

describe('HF model folder export', () => {
  it('writes the merged model; loadModel reads back the same weights and config', async () => {
    const dir = join(golden, 'llama/model');
    const model = await loadModel(dirSource(dir));
    const adapter = await readAdapter(dirSource(join(golden, 'llama/adapter_init')), model.config);
    const weights = mergeAdapter(model, adapter);
    const rawConfig = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    const { files, back } = await roundTrip(model, { weights, rawConfig });
    expect(Object.keys(files).sort()).toEqual(['config.json', 'model.safetensors']);
    expect(JSON.parse(new TextDecoder().decode(files['config.json']))).toEqual(rawConfig);
    expect(back.config).toEqual(model.config);
    expectWeights(back.weights, weights);
  });

  it('F16 and BF16 store each merged value rounded to nearest even; config says so', async () => {
    const model = await loadModel(dirSource(join(golden, 'qwen2/model')));
    const adapter = await readAdapter(dirSource(join(golden, 'qwen2/adapter_init')), model.config);
    const weights = mergeAdapter(model, adapter);
    for (const [dtype, round, name] of [
      ['F16', (x: number) => f16ToF32(f32ToF16(x)), 'float16'],
      ['BF16', (x: number) => bf16ToF32(f32ToBf16(x)), 'bfloat16'],
    ] as const) {
      const { files, back } = await roundTrip(model, { weights, dtype });
      expect(JSON.parse(new TextDecoder().decode(files['config.json'])).torch_dtype).toBe(name);
      expectWeights(back.weights, weights, round);
    }
  });

  it('shards like transformers when over the shard size, with a complete index', async () => {
    const model = await loadModel(dirSource(join(golden, 'qwen3/model')));
    const total = [...model.weights.values()].reduce((a, t) => a + t.data.length * 4, 0);
    const { files, back } = await roundTrip(model, { maxShardBytes: 40_000 });
    const shards = Object.keys(files).filter((f) => /^model-\d{5}-of-\d{5}\.safetensors$/.test(f));
    expect(shards.length).toBeGreaterThan(3);
    expect(shards[0]).toBe(`model-00001-of-${String(shards.length).padStart(5, '0')}.safetensors`);
    expect(files['model.safetensors']).toBeUndefined();
    const index = JSON.parse(new TextDecoder().decode(files['model.safetensors.index.json']));
    expect(index.metadata.total_size).toBe(total);
    expect(Object.keys(index.weight_map).sort()).toEqual([...model.weights.keys()].sort());
    for (const s of shards) expect(files[s].length).toBeLessThan(40_000 + 30_000); // one tensor may overflow alone
    expectWeights(back.weights, model.weights);
  });

  it('copies tokenizer, chat template and generation config; rebuilds config.json when not given', async () => {
    const model = await loadModel(
      memorySource(makeTinyModel({ arch: 'qwen3', vocab: 300, hidden: 16, layers: 1 })),
    );
    model.files.chatTemplate = '{{ messages[0].content }}'; // as if it came from chat_template.jinja
    const { files, back } = await roundTrip(model, {});
    expect(Object.keys(files).sort()).toEqual([
      'chat_template.jinja',
      'config.json',
      'generation_config.json',
      'model.safetensors',
      'tokenizer.json',
      'tokenizer_config.json',
    ]);
    expect(back.files).toEqual(model.files);
    expect(back.config).toEqual(model.config);
    const cfg = JSON.parse(new TextDecoder().decode(files['config.json']));
    expect(cfg).toEqual({ ...configJsonFrom(model.config), torch_dtype: 'float32' });
    expect(cfg.qk_norm).toBeUndefined();
    expectWeights(back.weights, model.weights);
  });
});
