// GGUF LoRA adapters as convert_lora_to_gguf.py writes them: general/adapter keys, alpha·√r for rsLoRA
// (llama.cpp scales by alpha / r), lora_a [r, in] and lora_b [out, r] in PEFT order, lora_b rows of llama
// q/k permuted like the base weights. (llama.cpp applies them in llamacpp.test.ts.)
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readAdapter } from '../io/peft';
import { parseHeader, readFloat32 } from '../io/safetensors';
import { dirSource } from '../io/source_node';
import { loadModel } from '../model/weights';
import { ggufBytes } from './gguf';
import { readGguf, readGgufTensor } from './gguf-read';
import { ggufAdapter, ggufLoraAlpha } from './gguf-adapter';
import { permuteRowsForRope } from './gguf-model';

const golden = join(__dirname, '../../../tests/fixtures/golden');

async function load(c: string) {
  const model = await loadModel(dirSource(join(golden, c, 'model')));
  const adapter = await readAdapter(dirSource(join(golden, c, 'adapter_init')), model.config);
  const bytes = ggufBytes(ggufAdapter(model.config, adapter));
  const st = new Uint8Array(readFileSync(join(golden, c, 'adapter_init/adapter_model.safetensors')));
  const { entries } = parseHeader(st);
  const peft = (k: string) => readFloat32(st, entries.get(`base_model.model.${k}`)!);
  return { model, adapter, bytes, gguf: readGguf(bytes), peft };
}

describe('GGUF LoRA adapter', () => {
  it('writes the adapter keys; alpha as is, or alpha·√r for rsLoRA', async () => {
    const llama = await load('llama');
    const m = llama.gguf.metadata;
    expect(m.get('general.type')?.value).toBe('adapter');
    expect(m.get('general.architecture')?.value).toBe('llama');
    expect(m.get('adapter.type')?.value).toBe('lora');
    expect(m.get('adapter.lora.alpha')).toEqual({ type: 'f32', value: 8 });
    const qwen2 = await load('qwen2'); // r 4, alpha 8, use_rslora: scale 8/√4 = 4 = alpha' / r
    expect(qwen2.gguf.metadata.get('adapter.lora.alpha')?.value).toBe(16);
    expect(ggufLoraAlpha(qwen2.adapter.meta) / qwen2.adapter.meta.rank).toBe(8 / Math.sqrt(4));
    expect(llama.gguf.tensors.length).toBe(2 * 7 * 2);
  });

  it('lora_a / lora_b hold PEFT A and B; llama q/k B rows permuted, qwen not', async () => {
    const { gguf, bytes, peft } = await load('llama');
    const t = (n: string) => gguf.tensors.find((x) => x.name === n)!;
    expect(t('blk.0.attn_q.weight.lora_a').shape).toEqual([4, 48]);
    expect(t('blk.0.attn_q.weight.lora_b').shape).toEqual([48, 4]);
    expect(t('blk.1.ffn_down.weight.lora_a').shape).toEqual([4, 96]);
    const A = peft('model.layers.0.self_attn.q_proj.lora_A.weight');
    expect(readGgufTensor(bytes, t('blk.0.attn_q.weight.lora_a'))).toEqual(A);
    const Bq = peft('model.layers.0.self_attn.q_proj.lora_B.weight');
    expect(readGgufTensor(bytes, t('blk.0.attn_q.weight.lora_b'))).toEqual(permuteRowsForRope(Bq, 48, 4, 4));
    const Bk = peft('model.layers.1.self_attn.k_proj.lora_B.weight');
    expect(readGgufTensor(bytes, t('blk.1.attn_k.weight.lora_b'))).toEqual(permuteRowsForRope(Bk, 24, 4, 2));
    const Bv = peft('model.layers.1.self_attn.v_proj.lora_B.weight');
    expect(readGgufTensor(bytes, t('blk.1.attn_v.weight.lora_b'))).toEqual(Bv);

    const q3 = await load('qwen3');
    const t3 = q3.gguf.tensors.find((x) => x.name === 'blk.0.attn_q.weight.lora_b')!;
    expect(readGgufTensor(q3.bytes, t3)).toEqual(q3.peft('model.layers.0.self_attn.q_proj.lora_B.weight'));
  });
});
