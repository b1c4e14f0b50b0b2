// Merging a PEFT adapter into the golden tiny models: W' = W + scale·(B·A) computed independently from the
// adapter's PEFT tensors in float64 (scale alpha/r, alpha/√r for qwen2's rsLoRA), untouched tensors shared.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readAdapter } from '../io/peft';
import { parseHeader, readFloat32 } from '../io/safetensors';
import { dirSource } from '../io/source_node';
import { loadModel } from '../model/weights';
import { mergeAdapter, mergedModel } from './merge';

const golden = join(__dirname, '../../../tests/fixtures/golden');

describe('mergeAdapter', () => {
  for (const c of ['llama', 'llama_tied', 'qwen2', 'qwen3']) {
    it(`${c}: W + scale·B·A for every target, other tensors untouched`, async () => {
      const model = await loadModel(dirSource(join(golden, c, 'model')));
      const adapter = await readAdapter(dirSource(join(golden, c, 'adapter_init')), model.config);
      const merged = mergeAdapter(model, adapter);

      const cfg = JSON.parse(readFileSync(join(golden, c, 'adapter_init/adapter_config.json'), 'utf8'));
      const scale = cfg.lora_alpha / (cfg.use_rslora ? Math.sqrt(cfg.r) : cfg.r);
      const bytes = new Uint8Array(readFileSync(join(golden, c, 'adapter_init/adapter_model.safetensors')));
      const { entries } = parseHeader(bytes);
      const peft = (k: string) => readFloat32(bytes, entries.get(k)!);
      let checked = 0;
      for (const [name, t] of model.weights) {
        const path = name.replace(/\.weight$/, '');
        const aKey = `base_model.model.${path}.lora_A.weight`;
        if (!entries.has(aKey)) {
          expect(merged.get(name)).toBe(t);
          continue;
        }
        const A = peft(aKey); // [r, in]
        const B = peft(`base_model.model.${path}.lora_B.weight`); // [out, r]
        const [out, inn] = t.shape;
        const r = cfg.r;
        const got = merged.get(name)!;
        expect(got.shape).toEqual(t.shape);
        expect(got.data).not.toBe(t.data);
        let maxErr = 0;
        for (let o = 0; o < out; o++) {
          for (let i = 0; i < inn; i++) {
            let d = 0;
            for (let k = 0; k < r; k++) d += B[o * r + k] * A[k * inn + i];
            maxErr = Math.max(maxErr, Math.abs(got.data[o * inn + i] - (t.data[o * inn + i] + scale * d)));
          }
        }
        expect(maxErr).toBeLessThan(1e-6);
        checked++;
      }
      expect(checked).toBe(7 * model.config.num_hidden_layers);
      expect(mergedModel(model, adapter).config).toBe(model.config);
    });
  }
});
