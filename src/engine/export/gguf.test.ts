// GGUF writer and reader: every KV value type (arrays included) round-trips, tensor data is aligned to 32
// with dims stored innermost first, F16/BF16/Q8_0 encode as ggml does, and a lying or truncated file is a
// clear error. (llama.cpp itself reads these files in llamacpp.test.ts.)
import { describe, expect, it } from 'vitest';
import { f16ToF32 } from '../io/dtype';
import { GGML_TYPE, ggufBytes, gv, quantizeQ8_0, writeGguf, type GgufMetadata, type GgufValue } from './gguf';
import { readGguf, readGgufTensor } from './gguf-read';

function sample(): GgufMetadata {
  return new Map<string, GgufValue>([
    ['general.architecture', gv.str('llama')],
    ['general.alignment', gv.u32(32)],
    ['t.u8', { type: 'u8', value: 255 }],
    ['t.i8', { type: 'i8', value: -128 }],
    ['t.u16', { type: 'u16', value: 65535 }],
    ['t.i16', { type: 'i16', value: -32768 }],
    ['t.u32', gv.u32(4_000_000_000)],
    ['t.i32', gv.i32(-2_000_000_000)],
    ['t.f32', gv.f32(0.5)],
    ['t.f64', { type: 'f64', value: Math.PI }],
    ['t.u64', { type: 'u64', value: 2n ** 60n }],
    ['t.i64', { type: 'i64', value: -(2n ** 60n) }],
    ['t.bool', gv.bool(true)],
    ['t.str', gv.str('héllo 🦙')],
    ['t.arr_str', gv.arr('string', ['a', '', 'Ġb c', '日本'])],
    ['t.arr_i32', gv.arr('i32', Int32Array.from([1, -2, 3]))],
    ['t.arr_f32', gv.arr('f32', [1.5, -0.25])],
    ['t.arr_bool', gv.arr('bool', [true, false])],
    ['t.arr_u8', gv.arr('u8', [0, 7, 255])],
    ['t.arr_empty', gv.arr('string', [])],
  ]);
}

describe('GGUF writer', () => {
  it('round-trips metadata of every value type', () => {
    const meta = sample();
    const parsed = readGguf(ggufBytes(writeGguf(meta, [])));
    expect(parsed.version).toBe(3);
    expect([...parsed.metadata.keys()]).toEqual([...meta.keys()]);
    for (const [k, v] of meta) {
      const got = parsed.metadata.get(k)!;
      expect(got.type).toBe(v.type);
      if (v.type === 'array') {
        expect(got.type === 'array' && got.itemType).toBe(v.itemType);
        expect([...(got.value as ArrayLike<unknown> as unknown[])]).toEqual([...(v.value as unknown[])]);
      } else {
        expect(got.value).toEqual(v.value);
      }
    }
  });

  it('writes the header layout byte for byte', () => {
    const bytes = ggufBytes(writeGguf(new Map([['a', gv.u32(7)]]), []));
    const dv = new DataView(bytes.buffer);
    expect(new TextDecoder().decode(bytes.subarray(0, 4))).toBe('GGUF');
    expect(dv.getUint32(4, true)).toBe(3); // version
    expect(dv.getBigUint64(8, true)).toBe(0n); // tensors
    expect(dv.getBigUint64(16, true)).toBe(1n); // kv pairs
    expect(dv.getBigUint64(24, true)).toBe(1n); // key length
    expect(bytes[32]).toBe('a'.charCodeAt(0));
    expect(dv.getUint32(33, true)).toBe(4); // GGUF_TYPE_UINT32
    expect(dv.getUint32(37, true)).toBe(7);
    expect(bytes.length % 32).toBe(0);
  });

  it('aligns tensor data to 32 bytes, reverses dims and encodes F32/F16/BF16/Q8_0', () => {
    const a = Float32Array.from({ length: 6 }, (_, i) => i - 2.5); // 24 bytes: the next tensor needs padding
    const b = Float32Array.from({ length: 64 }, (_, i) => Math.sin(i) * 3);
    const file = writeGguf(new Map([['general.alignment', gv.u32(32)]]), [
      { name: 'a', shape: [2, 3], type: 'F32', data: a },
      { name: 'b16', shape: [2, 32], type: 'F16', data: b },
      { name: 'bbf', shape: [2, 32], type: 'BF16', data: () => b },
      { name: 'bq8', shape: [2, 32], type: 'Q8_0', data: b },
    ]);
    const bytes = ggufBytes(file);
    expect(bytes.length).toBe(file.size);
    const parsed = readGguf(bytes);
    const [ta, t16, tbf, tq8] = parsed.tensors;
    expect(ta.shape).toEqual([2, 3]);
    expect(parsed.tensors.map((t) => t.type)).toEqual([
      GGML_TYPE.F32,
      GGML_TYPE.F16,
      GGML_TYPE.BF16,
      GGML_TYPE.Q8_0,
    ]);
    for (const t of parsed.tensors) expect(t.offset % 32).toBe(0);
    // dims innermost first in the file: tensor info of 'a' holds 3 then 2
    const dv = new DataView(bytes.buffer);
    // the tensor info of 'a': u64 name length 1, 'a', u32 n_dims, u64 dims…
    const needle = [1, 0, 0, 0, 0, 0, 0, 0, 'a'.charCodeAt(0)];
    const nameAt = bytes.findIndex((_, i) => needle.every((v, j) => bytes[i + j] === v)) + 8;
    expect(dv.getUint32(nameAt + 1, true)).toBe(2); // n_dims
    expect(dv.getBigUint64(nameAt + 5, true)).toBe(3n);
    expect(dv.getBigUint64(nameAt + 13, true)).toBe(2n);
    expect(readGgufTensor(bytes, ta)).toEqual(a);
    const got16 = readGgufTensor(bytes, t16);
    const gotBf = readGgufTensor(bytes, tbf);
    const gotQ8 = readGgufTensor(bytes, tq8);
    for (let i = 0; i < b.length; i++) {
      expect(Math.abs(got16[i] - b[i])).toBeLessThan(2e-3);
      expect(Math.abs(gotBf[i] - b[i])).toBeLessThan(2e-2);
      expect(Math.abs(gotQ8[i] - b[i])).toBeLessThan(3 / 127);
    }
  });

  it('quantizes Q8_0 as ggml: d = max|x| / 127 in F16, q = round(x / d) half away from zero', () => {
    const x = new Float32Array(32);
    x[0] = 127;
    x[1] = -63.5;
    x[2] = 0.5;
    x[3] = -1.49;
    const q = quantizeQ8_0(x);
    expect(q.length).toBe(34);
    const dv = new DataView(q.buffer);
    expect(f16ToF32(dv.getUint16(0, true))).toBe(1);
    expect([dv.getInt8(2), dv.getInt8(3), dv.getInt8(4), dv.getInt8(5), dv.getInt8(6)]).toEqual([
      127, -64, 1, -1, 0,
    ]);
    expect(quantizeQ8_0(new Float32Array(32))).toEqual(new Uint8Array(34)); // d = 0, all zero
  });

  it('refuses Q8_0 rows that are not whole blocks and duplicate names', () => {
    expect(() =>
      writeGguf(new Map(), [{ name: 'x', shape: [2, 48], type: 'Q8_0', data: new Float32Array(96) }]),
    ).toThrow(/multiple of 32/);
    const t = { name: 'x', shape: [1], type: 'F32' as const, data: new Float32Array(1) };
    expect(() => writeGguf(new Map(), [t, t])).toThrow(/duplicate/);
  });

  it('reads a truncated or lying file as a clear error', () => {
    const bytes = ggufBytes(
      writeGguf(sample(), [{ name: 'w', shape: [4, 8], type: 'F32', data: new Float32Array(32) }]),
    );
    expect(() => readGguf(bytes.subarray(0, 100))).toThrow(/truncated/);
    expect(() => readGguf(bytes.subarray(0, bytes.length - 4))).toThrow(/past the end/);
    const bad = bytes.slice();
    bad[0] = 0;
    expect(() => readGguf(bad)).toThrow(/not a GGUF file/);
    const huge = bytes.slice();
    new DataView(huge.buffer).setBigUint64(24, 2n ** 62n, true); // first key's length
    expect(() => readGguf(huge)).toThrow(/too large|truncated/);
  });
});
