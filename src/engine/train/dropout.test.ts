// In-graph dropout masks: the right keep rate and scale, independent per module and per step, the same for
// the same seed; and dropout 0 builds exactly the graph without dropout.
import { describe, expect, it } from 'vitest';
import { evalGraph } from '../autodiff/testing_node';
import { Graph } from '../graph/ir';
import { toOnnx } from '../graph/onnx';
import { parseConfig } from '../model/config';
import { loraSpecs } from '../model/lora';
import { expectedWeights } from '../model/weights';
import { printGraph } from '../graph/print';
import { dropoutMask } from './dropout';
import { buildStepGraph } from './step';

async function masks(p: number, seed: number) {
  const g = new Graph();
  const x = g.input('x', 'float32', [512, 96]);
  const s = g.input('seed', 'int32', [1]);
  g.output(dropoutMask(x, s, 0, p), 'm0');
  g.output(dropoutMask(x, s, 1, p), 'm1');
  const run = await evalGraph(toOnnx(g));
  const r = await run({
    x: { data: new Float32Array(512 * 96), dims: [512, 96] },
    seed: { data: Int32Array.from([seed]), dims: [1] },
  });
  return [r.m0 as Float32Array, r.m1 as Float32Array];
}

describe('dropout masks', () => {
  it('drop a fraction p and scale the rest by 1/(1−p)', async () => {
    for (const p of [0.05, 0.3]) {
      const [m] = await masks(p, 7);
      const zeros = m.filter((v) => v === 0).length / m.length;
      expect(Math.abs(zeros - p)).toBeLessThan(0.01);
      expect(new Set(m)).toEqual(new Set([0, Math.fround(1 / (1 - p))]));
    }
  });
  it('differ between modules and seeds, repeat for the same seed', async () => {
    const [a0, a1] = await masks(0.5, 1);
    const [b0] = await masks(0.5, 2);
    const [c0] = await masks(0.5, 1);
    const agree = (x: Float32Array, y: Float32Array) => x.filter((v, i) => v === y[i]).length / x.length;
    // 49 152 entries: an independent pair agrees on 0.5 ± 0.0023 (one standard deviation)
    expect(Math.abs(agree(a0, a1) - 0.5)).toBeLessThan(0.01);
    expect(Math.abs(agree(a0, b0) - 0.5)).toBeLessThan(0.01);
    expect(Math.abs(agree(a0.subarray(0, -1), a0.subarray(1)) - 0.5)).toBeLessThan(0.01); // neighbours
    expect(c0).toEqual(a0);
  });
  it('dropout 0 builds the graph without any dropout node', () => {
    const config = parseConfig({
      model_type: 'llama',
      hidden_size: 32,
      intermediate_size: 64,
      num_hidden_layers: 1,
      num_attention_heads: 4,
      num_key_value_heads: 2,
      vocab_size: 64,
      rms_norm_eps: 1e-5,
    });
    const spec = {
      config,
      weightShapes: expectedWeights(config),
      specs: loraSpecs(config, ['q_proj', 'v_proj']),
      rank: 4,
      scale: 2,
      mode: 'train' as const,
      B: 1,
      T: 16,
      N: 8,
      chunk: 8,
      accumulateIn: false,
      clip: true,
    };
    const without = printGraph(buildStepGraph({ ...spec, dropout: 0 }));
    expect(without).not.toMatch(/dropout_seed|int32\[16,32\]/);
    expect(printGraph(buildStepGraph({ ...spec, dropout: 0.1 }))).toMatch(/dropout_seed/);
  });
});
