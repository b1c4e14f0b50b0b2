// F16 / BF16 conversions: edge values, round-to-nearest-even ties, and exhaustive round trips.
import { describe, expect, it } from 'vitest';
import {
  bf16ArrayToF32,
  bf16ToF32,
  f16ArrayToF32,
  f16ToF32,
  f32ArrayToBf16,
  f32ArrayToF16,
  f32ToBf16,
  f32ToF16,
} from './dtype';

describe('f16', () => {
  it('decodes edge values', () => {
    expect(f16ToF32(0x0000)).toBe(0);
    expect(Object.is(f16ToF32(0x8000), -0)).toBe(true);
    expect(f16ToF32(0x3c00)).toBe(1);
    expect(f16ToF32(0xc000)).toBe(-2);
    expect(f16ToF32(0x3555)).toBe(0.333251953125);
    expect(f16ToF32(0x7bff)).toBe(65504);
    expect(f16ToF32(0x0400)).toBe(2 ** -14); // smallest normal
    expect(f16ToF32(0x0001)).toBe(2 ** -24); // smallest subnormal
    expect(f16ToF32(0x03ff)).toBe(1023 * 2 ** -24); // largest subnormal
    expect(f16ToF32(0x8001)).toBe(-(2 ** -24));
    expect(f16ToF32(0x7c00)).toBe(Infinity);
    expect(f16ToF32(0xfc00)).toBe(-Infinity);
    expect(f16ToF32(0x7e00)).toBeNaN();
    expect(f16ToF32(0x7c01)).toBeNaN();
  });

  it('encodes with round-to-nearest-even', () => {
    expect(f32ToF16(1)).toBe(0x3c00);
    expect(f32ToF16(-0)).toBe(0x8000);
    expect(f32ToF16(1 + 2 ** -11)).toBe(0x3c00); // tie -> even (down)
    expect(f32ToF16(1 + 3 * 2 ** -11)).toBe(0x3c02); // tie -> even (up)
    expect(f32ToF16(1 + 2 ** -11 + 2 ** -20)).toBe(0x3c01); // above the tie
    expect(f32ToF16(65504)).toBe(0x7bff);
    expect(f32ToF16(65519)).toBe(0x7bff);
    expect(f32ToF16(65520)).toBe(0x7c00); // tie with the (odd) max rounds to inf
    expect(f32ToF16(1e6)).toBe(0x7c00);
    expect(f32ToF16(-1e6)).toBe(0xfc00);
    expect(f32ToF16(Infinity)).toBe(0x7c00);
    expect(f32ToF16(-Infinity)).toBe(0xfc00);
    expect(f32ToF16(NaN) & 0x7e00).toBe(0x7e00); // quiet NaN
  });

  it('encodes subnormals and underflow', () => {
    expect(f32ToF16(2 ** -24)).toBe(0x0001);
    expect(f32ToF16(2 ** -25)).toBe(0x0000); // tie between 0 and 1 ulp -> 0
    expect(f32ToF16(1.5 * 2 ** -25)).toBe(0x0001);
    expect(f32ToF16(3 * 2 ** -25)).toBe(0x0002); // tie between 1 and 2 ulps -> 2
    expect(f32ToF16(5 * 2 ** -25)).toBe(0x0002); // tie between 2 and 3 ulps -> 2
    expect(f32ToF16(1023.5 * 2 ** -24)).toBe(0x0400); // rounds up into the normals
    expect(f32ToF16(1e-10)).toBe(0x0000);
    expect(f32ToF16(-1e-10)).toBe(0x8000);
    expect(f32ToF16(1e-45)).toBe(0x0000); // float32 subnormal
  });

  it('round-trips every pattern, and the array forms agree', () => {
    const all = new Uint16Array(65536).map((_, i) => i);
    const vals = f16ArrayToF32(all);
    const back = f32ArrayToF16(vals);
    for (let h = 0; h < 65536; h++) {
      const v = f16ToF32(h);
      if (Number.isNaN(v)) {
        expect(Number.isNaN(vals[h])).toBe(true);
        expect(back[h] & 0x7c00).toBe(0x7c00);
        continue;
      }
      if (vals[h] !== v || back[h] !== h || f32ToF16(v) !== h) throw new Error(`pattern ${h}`);
    }
  });
});

describe('bf16', () => {
  it('decodes edge values', () => {
    expect(bf16ToF32(0x3f80)).toBe(1);
    expect(bf16ToF32(0xc040)).toBe(-3);
    expect(bf16ToF32(0x7f7f)).toBe(3.3895313892515355e38); // largest finite
    expect(bf16ToF32(0x0001)).toBe(2 ** -133); // smallest subnormal
    expect(bf16ToF32(0x7f80)).toBe(Infinity);
    expect(bf16ToF32(0xff80)).toBe(-Infinity);
    expect(bf16ToF32(0x7fc0)).toBeNaN();
  });

  it('encodes with round-to-nearest-even', () => {
    expect(f32ToBf16(1)).toBe(0x3f80);
    expect(f32ToBf16(1 + 2 ** -8)).toBe(0x3f80); // tie -> even (down)
    expect(f32ToBf16(1 + 3 * 2 ** -8)).toBe(0x3f82); // tie -> even (up)
    expect(f32ToBf16(1 + 2 ** -8 + 2 ** -20)).toBe(0x3f81);
    expect(f32ToBf16(-(1 + 2 ** -8 + 2 ** -20))).toBe(0xbf81);
    expect(f32ToBf16(3.4028234663852886e38)).toBe(0x7f80); // float32 max rounds to inf
    expect(f32ToBf16(Infinity)).toBe(0x7f80);
    expect(f32ToBf16(-Infinity)).toBe(0xff80);
    expect(f32ToBf16(2 ** -133)).toBe(0x0001);
    expect(f32ToBf16(2 ** -134)).toBe(0x0000); // tie -> even
    const nan = f32ToBf16(NaN);
    expect(nan & 0x7f80).toBe(0x7f80);
    expect(nan & 0x7f).not.toBe(0);
  });

  it('keeps a signalling NaN a NaN rather than turning it into inf', () => {
    const bits = new Uint32Array([0x7f800001]);
    const out = f32ArrayToBf16(new Float32Array(bits.buffer));
    expect(Number.isNaN(bf16ToF32(out[0]))).toBe(true);
  });

  it('round-trips every pattern, and the array forms agree', () => {
    const all = new Uint16Array(65536).map((_, i) => i);
    const vals = bf16ArrayToF32(all);
    const back = f32ArrayToBf16(vals);
    for (let b = 0; b < 65536; b++) {
      const v = bf16ToF32(b);
      if (Number.isNaN(v)) continue;
      if (vals[b] !== v || back[b] !== b || f32ToBf16(v) !== b) throw new Error(`pattern ${b}`);
    }
  });

  it('array forms write into a given destination view', () => {
    const dst = new Float32Array(6);
    bf16ArrayToF32(new Uint16Array([0x3f80, 0x4000]), dst.subarray(2, 4));
    expect([...dst]).toEqual([0, 0, 1, 2, 0, 0]);
  });
});
