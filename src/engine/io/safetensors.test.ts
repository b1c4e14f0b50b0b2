// safetensors: round trips for every written dtype, the on-disk layout, and lying or broken headers.
import { describe, expect, it } from 'vitest';
import { UserError } from '../errors';
import { f32ToBf16 } from './dtype';
import { headerLength, parseHeader, readFloat32, tensorBytes, writeSafetensors } from './safetensors';

/** A file with the given header (object or raw text) and `dataLen` zero bytes; `len` overrides the u64. */
function rawFile(header: unknown, dataLen = 0, len?: bigint): Uint8Array {
  const json = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + dataLen);
  new DataView(out.buffer).setBigUint64(0, len ?? BigInt(json.length), true);
  out.set(json, 8);
  return out;
}

function userError(fn: () => unknown): UserError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(UserError);
    return e as UserError;
  }
  throw new Error('expected a UserError');
}

describe('writeSafetensors / parseHeader round trip', () => {
  const f32 = Float32Array.from([1.5, -2, 3.25, 0, 1e-3, 65504]);
  const file = writeSafetensors(
    {
      'b.f32': { dtype: 'F32', shape: [2, 3], data: f32 },
      'a.f16': { dtype: 'F16', shape: [3], data: Float32Array.from([1, 0.5, -65504]) },
      'c.bf16': { dtype: 'BF16', shape: [1, 2], data: Float32Array.from([1 + 2 ** -8, -3]) },
      'd.f16bits': { dtype: 'F16', shape: [1], data: Uint16Array.from([0x3c00]) },
      'e.i32': { dtype: 'I32', shape: [3], data: Int32Array.from([-1, 7, 2 ** 31 - 1]) },
      'f.i64': { dtype: 'I64', shape: [2], data: BigInt64Array.from([-5n, 2n ** 40n]) },
      'g.empty': { dtype: 'F32', shape: [0, 4], data: new Float32Array(0) },
      'h.scalar': { dtype: 'F32', shape: [], data: Float32Array.from([7]) },
    },
    { format: 'pt', note: 'ünïcode' },
  );
  const h = parseHeader(file, 'x.safetensors');

  it('reads every dtype back', () => {
    expect(readFloat32(file, h.entries.get('b.f32')!)).toEqual(f32);
    expect([...readFloat32(file, h.entries.get('a.f16')!)]).toEqual([1, 0.5, -65504]);
    expect([...readFloat32(file, h.entries.get('c.bf16')!)]).toEqual([1, -3]); // tie rounded to even
    expect([...readFloat32(file, h.entries.get('d.f16bits')!)]).toEqual([1]);
    const i32 = tensorBytes(file, h.entries.get('e.i32')!);
    expect([...new Int32Array(i32.slice().buffer)]).toEqual([-1, 7, 2 ** 31 - 1]);
    const i64 = tensorBytes(file, h.entries.get('f.i64')!);
    expect([...new BigInt64Array(i64.slice().buffer)]).toEqual([-5n, 2n ** 40n]);
    expect(readFloat32(file, h.entries.get('g.empty')!).length).toBe(0);
    expect([...readFloat32(file, h.entries.get('h.scalar')!)]).toEqual([7]);
  });

  it('keeps shapes, dtypes and metadata', () => {
    expect(h.metadata).toEqual({ format: 'pt', note: 'ünïcode' });
    expect(h.entries.get('b.f32')).toMatchObject({ dtype: 'F32', shape: [2, 3] });
    expect(h.entries.get('c.bf16')).toMatchObject({ dtype: 'BF16', shape: [1, 2] });
    expect(h.entries.get('h.scalar')!.shape).toEqual([]);
  });

  it('lays the file out like the reference writer', () => {
    const n = Number(new DataView(file.buffer).getBigUint64(0, true));
    expect(n % 8).toBe(0);
    expect(h.dataStart).toBe(8 + n);
    const text = new TextDecoder().decode(file.subarray(8, 8 + n));
    expect(text[0]).toBe('{');
    expect(text.trimEnd().length).toBeGreaterThan(n - 8 - 1); // padded with at most 7 spaces
    const keys = Object.keys(JSON.parse(text));
    expect(keys).toEqual([
      '__metadata__',
      'a.f16',
      'b.f32',
      'c.bf16',
      'd.f16bits',
      'e.i32',
      'f.i64',
      'g.empty',
      'h.scalar',
    ]);
    // Data ordered by element size then name: each tensor aligned to its element size, no gaps.
    const spans = [...h.entries.values()].sort((a, b) => a.begin - b.begin);
    for (const e of spans)
      expect(e.begin % { F32: 4, F16: 2, BF16: 2, I32: 4, I64: 8 }[e.dtype as 'F32']!).toBe(0);
    expect(spans.at(-1)!.end).toBe(file.length);
    expect(h.entries.get('f.i64')!.begin).toBe(h.dataStart);
  });

  it('returns an aligned F32 view without copying, and copies when misaligned', () => {
    const e = h.entries.get('b.f32')!;
    expect(readFloat32(file, e).buffer).toBe(file.buffer);
    const shifted = new Uint8Array(file.length + 1);
    shifted.set(file, 1);
    const view = shifted.subarray(1);
    const data = readFloat32(view, parseHeader(view).entries.get('b.f32')!);
    expect(data).toEqual(f32);
  });

  it('parses from a prefix when given the file size', () => {
    const n = headerLength(file.subarray(0, 8), 'x', file.length);
    const prefix = file.slice(0, 8 + n);
    const ph = parseHeader(prefix, 'x', file.length);
    expect(ph.entries.get('b.f32')).toEqual(h.entries.get('b.f32'));
    expect(userError(() => parseHeader(file.slice(0, 8 + n - 1), 'x', file.length)).message).toMatch(
      /truncated/,
    );
  });

  it('parses dtypes it does not write, and refuses non-float reads clearly', () => {
    const f = rawFile(
      {
        x: { dtype: 'F64', shape: [1], data_offsets: [0, 8] },
        m: { dtype: 'BOOL', shape: [2], data_offsets: [8, 10] },
        u: { dtype: 'U8', shape: [2], data_offsets: [10, 12] },
      },
      16,
    );
    const ph = parseHeader(f);
    new DataView(f.buffer).setFloat64(ph.entries.get('x')!.begin, 0.1, true);
    expect(readFloat32(f, ph.entries.get('x')!)[0]).toBeCloseTo(0.1, 7);
    expect(userError(() => readFloat32(f, ph.entries.get('m')!, 'f.st', 'm')).message).toBe(
      "f.st: 'm' has dtype BOOL; expected a float tensor (F32, F16, BF16)",
    );
  });

  it('writes BF16 from float32 with round-to-nearest-even', () => {
    const f = writeSafetensors({
      t: { dtype: 'BF16', shape: [1], data: Float32Array.from([1 + 3 * 2 ** -8]) },
    });
    const e = parseHeader(f).entries.get('t')!;
    expect(new DataView(f.buffer).getUint16(e.begin, true)).toBe(f32ToBf16(1 + 3 * 2 ** -8));
  });
});

describe('broken or lying headers', () => {
  const before = process.memoryUsage().arrayBuffers;
  const entry = (o: unknown) => ({ t: { dtype: 'F32', shape: [2], data_offsets: [0, 8], ...(o as object) } });
  const msg = (f: Uint8Array) => userError(() => parseHeader(f, 'model.safetensors')).message;

  it('rejects files too short for a header', () => {
    expect(msg(new Uint8Array(5))).toBe(
      'model.safetensors: not a safetensors file: 5 bytes, too short for a header',
    );
  });

  it('rejects a header length larger than the file', () => {
    const f = rawFile('{}', 1030, 2n ** 32n);
    expect(f.length).toBe(1040);
    expect(msg(f)).toBe('model.safetensors: header says 4294967296 bytes but the file has 1040');
    expect(msg(rawFile('{}', 0, 2n ** 64n - 1n))).toMatch(/header says 18446744073709551615 bytes/);
  });

  it('rejects a header over the 100 MB limit, from the first 8 bytes alone', () => {
    const head = new Uint8Array(8);
    new DataView(head.buffer).setBigUint64(0, 200_000_000n, true);
    expect(userError(() => headerLength(head, 'big.safetensors', 300_000_000)).message).toMatch(
      /header of 200000000 bytes is larger than the 100000000-byte limit/,
    );
  });

  it('rejects bad JSON, non-objects and invalid UTF-8', () => {
    expect(msg(rawFile('{"t": '))).toMatch(/^model.safetensors: header is not valid JSON/);
    expect(msg(rawFile('[1, 2]'))).toBe('model.safetensors: header is not a JSON object');
    expect(msg(rawFile('null'))).toBe('model.safetensors: header is not a JSON object');
    const f = rawFile('{"\xff": 1}');
    f[10] = 0xff;
    expect(msg(f)).toMatch(/not valid JSON/);
  });

  it('rejects unknown dtypes and bad shapes', () => {
    expect(msg(rawFile(entry({ dtype: 'Q4_K' }), 8))).toBe(
      'model.safetensors: tensor \'t\': unknown dtype "Q4_K"',
    );
    expect(msg(rawFile(entry({ shape: [-2] }), 8))).toMatch(
      /shape \[-2\] is not a list of non-negative integers/,
    );
    expect(msg(rawFile(entry({ shape: [1.5] }), 8))).toMatch(/not a list of non-negative integers/);
    expect(msg(rawFile(entry({ shape: '2' }), 8))).toMatch(/not a list of non-negative integers/);
    expect(msg(rawFile(entry({ shape: [1e9, 1e9, 1e9] }), 8))).toBe(
      "model.safetensors: tensor 't': data_offsets span 8 bytes but F32 [1000000000, 1000000000, 1000000000] needs more",
    );
    expect(msg(rawFile({ t: 3 }, 8))).toMatch(/entry is not an object/);
  });

  it('rejects offsets outside the data, reversed, or of the wrong size', () => {
    expect(msg(rawFile(entry({}), 4))).toMatch(
      /tensor 't': data_offsets \[0, 8\] run past the end of the data \(4 bytes\)/,
    );
    expect(msg(rawFile(entry({ shape: [1], data_offsets: [4, 8] }), 6))).toBe(
      "model.safetensors: tensor 't': data_offsets [4, 8] run past the end of the data (6 bytes): truncated file?",
    );
    expect(msg(rawFile(entry({ data_offsets: [8, 0] }), 8))).toMatch(/are not \[begin, end\]/);
    expect(msg(rawFile(entry({ data_offsets: [0] }), 8))).toMatch(/are not \[begin, end\]/);
    expect(msg(rawFile(entry({ data_offsets: [0, 2 ** 60] }), 8))).toMatch(/are not \[begin, end\]|run past/);
    expect(msg(rawFile(entry({ data_offsets: [0, 12] }), 16))).toBe(
      "model.safetensors: tensor 't': data_offsets span 12 bytes but F32 [2] needs 8",
    );
  });

  it('rejects overlapping tensors', () => {
    const f = rawFile(
      {
        a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
        b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] },
      },
      12,
    );
    expect(msg(f)).toBe("model.safetensors: tensors 'a' and 'b' overlap in the data region");
  });

  it('rejects a truncated file and bad metadata', () => {
    const good = writeSafetensors({ w: { dtype: 'F32', shape: [4, 4], data: new Float32Array(16) } });
    expect(msg(good.slice(0, good.length - 3))).toMatch(/run past the end of the data/);
    expect(msg(good.slice(0, 20))).toMatch(/header says \d+ bytes but the file has 20/);
    expect(msg(rawFile({ __metadata__: { a: 1 } }))).toBe(
      "model.safetensors: __metadata__ 'a' is not a string",
    );
  });

  it('allocated nothing big while rejecting all of the above', () => {
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(64 * 1024 * 1024);
  });
});
