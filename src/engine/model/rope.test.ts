// RoPE tables: plain, linear and llama3 inverse frequencies against hand-computed values; HF table layout.
import { describe, expect, it } from 'vitest';
import { parseConfig } from './config';
import { ropeInvFreq, ropeTables } from './rope';

const base = {
  hidden_size: 2048,
  intermediate_size: 64,
  num_hidden_layers: 1,
  num_attention_heads: 32,
  vocab_size: 8,
};

describe('ropeInvFreq', () => {
  it('is theta^(-2i/d) without scaling', () => {
    const inv = ropeInvFreq(parseConfig({ model_type: 'llama', ...base, rope_theta: 10000 }));
    expect(inv.length).toBe(32);
    expect(inv[0]).toBe(1);
    expect(inv[16]).toBeCloseTo(0.01, 15); // 10000^(-1/2)
    expect(inv[31]).toBeCloseTo(10000 ** (-62 / 64), 15);
  });

  it('divides by the factor for linear scaling', () => {
    const inv = ropeInvFreq(
      parseConfig({ model_type: 'llama', ...base, rope_scaling: { type: 'linear', factor: 4 } }),
    );
    expect(inv[0]).toBe(0.25);
    expect(inv[16]).toBeCloseTo(0.0025, 15);
  });

  it('matches transformers llama3 scaling (Llama 3.2 settings) at hand-computed points', () => {
    const cfg = parseConfig({
      model_type: 'llama',
      ...base,
      rope_theta: 500000,
      rope_scaling: {
        rope_type: 'llama3',
        factor: 32,
        low_freq_factor: 1,
        high_freq_factor: 4,
        original_max_position_embeddings: 8192,
      },
    });
    const inv = ropeInvFreq(cfg);
    // Wavelength 2π/f below 8192/4 = 2048: unchanged (i ≤ 14); above 8192/1: f/32 (i ≥ 18); between: blended.
    const want: [number, number][] = [
      [0, 1.0],
      [14, 0.0032114459947525913],
      [15, 0.001290547928209264],
      [16, 0.00042955679655936815],
      [17, 9.70828780262767e-5],
      [18, 1.9461638184831125e-5],
      [31, 9.418306725434909e-8],
    ];
    for (const [i, v] of want) expect(inv[i] / v).toBeCloseTo(1, 13);
    // i = 16 by hand: f = 500000^-0.5, wavelen = 2π/f, s = (8192/wavelen - 1)/3, f·((1-s)/32 + s).
    const f = 1 / Math.sqrt(500000);
    const s = (8192 / ((2 * Math.PI) / f) - 1) / 3;
    expect(inv[16]).toBeCloseTo(f * ((1 - s) / 32 + s), 16);
  });
});

describe('ropeTables', () => {
  it('lays out cos/sin as [positions, head_dim] with the halves repeated', () => {
    const cfg = parseConfig({ model_type: 'llama', ...base, hidden_size: 64, num_attention_heads: 8 });
    const inv = ropeInvFreq(cfg);
    const { cos, sin } = ropeTables(cfg, 5);
    expect(cos.length).toBe(5 * 8);
    expect(sin.length).toBe(5 * 8);
    for (let i = 0; i < 8; i++) {
      expect(cos[i]).toBe(1);
      expect(sin[i]).toBe(0);
    }
    for (let p = 0; p < 5; p++) {
      for (let i = 0; i < 4; i++) {
        expect(cos[p * 8 + i]).toBe(Math.fround(Math.cos(p * inv[i])));
        expect(cos[p * 8 + 4 + i]).toBe(cos[p * 8 + i]);
        expect(sin[p * 8 + i]).toBe(Math.fround(Math.sin(p * inv[i])));
        expect(sin[p * 8 + 4 + i]).toBe(sin[p * 8 + i]);
      }
    }
    expect(sin[3 * 8 + 0]).toBeCloseTo(Math.sin(3), 7);
  });
});
