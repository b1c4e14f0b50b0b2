// Tiny models load through the normal loader for every architecture and option, their weights have the
// intended scale, and the committed random test model (tests/fixtures/tiny-chat, used by CLI tests) is
// exactly what the generator makes today, so the two never drift. The studio's embedded model, which is
// pretrained, is tested in tiny-model-embedded.test.ts.

import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { memorySource } from '../io/source';
import { dirSource } from '../io/source_node';
import { loadModel } from '../model/weights';
import { loadTokenizer } from '../text/tokenizer';
import { makeTinyModel, TINY_CHAT, type TinyModelOptions } from './tiny-model';

const EMBEDDED = fileURLToPath(new URL('../../../tests/fixtures/tiny-chat/', import.meta.url));

function stats(x: Float32Array) {
  let s = 0;
  let s2 = 0;
  for (const v of x) {
    s += v;
    s2 += v * v;
  }
  const mean = s / x.length;
  return { mean, std: Math.sqrt(s2 / x.length - mean * mean) };
}

describe('makeTinyModel', () => {
  const cases: [string, TinyModelOptions, number][] = [
    ['qwen3 tied', { arch: 'qwen3' }, 2 * 11 + 2],
    ['qwen2 untied (q/k/v bias)', { arch: 'qwen2', tied: false }, 2 * 12 + 3],
    ['llama, llama3 rope scaling, BF16', { arch: 'llama', ropeScaling: 'llama3', dtype: 'BF16' }, 2 * 9 + 2],
    ['llama, 3 layers, no GQA, F16', { arch: 'llama', layers: 3, kvHeads: 4, dtype: 'F16' }, 3 * 9 + 2],
  ];
  for (const [name, opts, count] of cases) {
    it(`${name}: loads with the loader`, async () => {
      const files = makeTinyModel(opts);
      const m = await loadModel(memorySource(files));
      expect(m.config.model_type).toBe(opts.arch);
      expect(m.weights.size).toBe(count);
      expect(m.config.vocab_size).toBe(2048);
      expect(m.config.tie_word_embeddings).toBe(opts.tied ?? true);
      expect(m.config.eos_token_id).toEqual([2047]);
      expect(m.config.bos_token_id).toBe(2045);
      expect(m.config.rope_scaling?.rope_type ?? null).toBe(opts.ropeScaling ?? null);
      expect(m.files.generationConfig).toMatchObject({ eos_token_id: [2047, 2045] });
      expect(m.files.chatTemplate).toContain('<|im_start|>');
      const tok = loadTokenizer(m.files.tokenizerJson!, m.files.tokenizerConfig);
      expect(tok.vocabSize).toBe(m.config.vocab_size);
      const raw = JSON.parse(files['config.json'] as string);
      expect(raw.architectures[0]).toMatch(/^(Llama|Qwen2|Qwen3)ForCausalLM$/);
    });
  }

  it('weights have the intended scale and depend only on the seed', async () => {
    const m = await loadModel(memorySource(makeTinyModel({ arch: 'qwen2', tied: false })));
    const w = (n: string) => stats(m.weights.get(n)!.data);
    expect(w('model.embed_tokens.weight').std).toBeCloseTo(2 / 8, 2);
    expect(w('lm_head.weight').std).toBeCloseTo(2 / 8, 2);
    expect(w('model.layers.0.mlp.down_proj.weight').std).toBeCloseTo(1 / Math.sqrt(128), 2);
    expect(w('model.norm.weight').mean).toBeCloseTo(1, 1);
    expect(w('model.norm.weight').std).toBeGreaterThan(0.05);
    expect(Math.abs(w('model.layers.1.self_attn.k_proj.bias').mean)).toBeLessThan(0.1);
    const a = makeTinyModel({ arch: 'llama', hidden: 32, heads: 2, kvHeads: 1, seed: 1 });
    const b = makeTinyModel({ arch: 'llama', hidden: 32, heads: 2, kvHeads: 1, seed: 1 });
    const c = makeTinyModel({ arch: 'llama', hidden: 32, heads: 2, kvHeads: 1, seed: 2 });
    const same = (x: typeof a, y: typeof a) =>
      Buffer.compare(x['model.safetensors'] as Uint8Array, y['model.safetensors'] as Uint8Array) === 0;
    expect(same(a, b)).toBe(true);
    expect(same(a, c)).toBe(false);
  });

  it('takes other sizes, vocabulary padding and a given tokenizer', async () => {
    const small = makeTinyModel({ arch: 'qwen3', vocab: 1024, hidden: 32, headDim: 8, padVocabTo: 64 });
    const m = await loadModel(memorySource(small));
    expect(m.config.vocab_size).toBe(1024);
    expect(m.config.head_dim).toBe(8);
    const padded = makeTinyModel({ arch: 'qwen3', vocab: 1000, padVocabTo: 64 });
    expect((await loadModel(memorySource(padded))).config.vocab_size).toBe(1024);

    const tokenizer = {
      tokenizerJson: small['tokenizer.json'] as string,
      tokenizerConfig: JSON.parse(small['tokenizer_config.json'] as string),
    };
    const given = makeTinyModel({ arch: 'llama', tokenizer, hidden: 16, heads: 2, kvHeads: 2, headDim: 8 });
    expect(given['tokenizer.json']).toBe(small['tokenizer.json']);
    expect((await loadModel(memorySource(given))).config.vocab_size).toBe(1024);
  });

  it('refuses llama3 RoPE scaling outside llama', () => {
    expect(() => makeTinyModel({ arch: 'qwen3', ropeScaling: 'llama3' })).toThrow(/llama-only/);
  });
});

describe('random test model (tests/fixtures/tiny-chat)', () => {
  it('is byte for byte what makeTinyModel(TINY_CHAT) makes', () => {
    const files = makeTinyModel(TINY_CHAT);
    const committed = readdirSync(EMBEDDED).filter((f) => f !== 'README.md');
    expect(committed.sort()).toEqual(Object.keys(files).sort());
    for (const [name, data] of Object.entries(files)) {
      const want = typeof data === 'string' ? new TextEncoder().encode(data) : data;
      const got = new Uint8Array(readFileSync(EMBEDDED + name));
      expect(got.length, name).toBe(want.length);
      expect(Buffer.compare(got, want), `${name} differs: run tools/make-tiny-model.ts`).toBe(0);
    }
  });

  it('loads from its folder and stays small', async () => {
    const m = await loadModel(dirSource(EMBEDDED));
    expect(m.config).toMatchObject({
      model_type: 'qwen3',
      hidden_size: 64,
      num_hidden_layers: 2,
      num_attention_heads: 4,
      num_key_value_heads: 2,
      head_dim: 16,
      intermediate_size: 128,
      vocab_size: 2048,
      tie_word_embeddings: true,
    });
    const total = readdirSync(EMBEDDED).reduce((a, f) => a + readFileSync(EMBEDDED + f).length, 0);
    expect(total).toBeLessThan(2 * 1024 * 1024);
  });
});
