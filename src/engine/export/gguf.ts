// GGUF v3 writer (https://github.com/ggml-org/ggml/blob/master/docs/gguf.md):
// "GGUF", u32 version, u64 tensor count, u64 KV count, the KV pairs (u64-length strings, u32 value types,
// arrays as u32 item type + u64 count), the tensor infos (name, u32 n_dims, u64 dims innermost first, u32 ggml
// type, u64 offset into the data section), padding to `general.alignment`, then each tensor's data, aligned.
// The writer yields the file as chunks, so a multi-GB model is never one buffer. Reader: gguf-read.ts.

import { f32ArrayToBf16, f32ArrayToF16, f32ToF16 } from '../io/dtype';

export const GGUF_MAGIC = 0x46554747; // "GGUF" little-endian
export const GGUF_VERSION = 3;
export const GGUF_DEFAULT_ALIGNMENT = 32;

/** gguf_type ids. */
export const GGUF_TYPE = {
  u8: 0,
  i8: 1,
  u16: 2,
  i16: 3,
  u32: 4,
  i32: 5,
  f32: 6,
  bool: 7,
  string: 8,
  array: 9,
  u64: 10,
  i64: 11,
  f64: 12,
} as const;
export type GgufScalarType = Exclude<keyof typeof GGUF_TYPE, 'array'>;

export type GgufValue =
  | { type: 'u8' | 'i8' | 'u16' | 'i16' | 'u32' | 'i32' | 'f32' | 'f64'; value: number }
  | { type: 'u64' | 'i64'; value: number | bigint }
  | { type: 'bool'; value: boolean }
  | { type: 'string'; value: string }
  | { type: 'array'; itemType: GgufScalarType; value: ArrayLike<number | bigint | boolean | string> };

/** Ordered metadata: keys are written in insertion order. */
export type GgufMetadata = Map<string, GgufValue>;

export const gv = {
  u32: (value: number): GgufValue => ({ type: 'u32', value }),
  i32: (value: number): GgufValue => ({ type: 'i32', value }),
  f32: (value: number): GgufValue => ({ type: 'f32', value }),
  bool: (value: boolean): GgufValue => ({ type: 'bool', value }),
  str: (value: string): GgufValue => ({ type: 'string', value }),
  arr: (itemType: GgufScalarType, value: ArrayLike<number | bigint | boolean | string>): GgufValue => ({
    type: 'array',
    itemType,
    value,
  }),
};

/** ggml_type ids of the tensor encodings we write. */
export const GGML_TYPE = { F32: 0, F16: 1, Q8_0: 8, BF16: 30 } as const;
export type GgmlTypeName = keyof typeof GGML_TYPE;

export interface GgufTensor {
  name: string;
  /** PyTorch / row-major order (outermost first); the file stores it reversed. */
  shape: number[];
  type: GgmlTypeName;
  /** float32 values, encoded to `type` when written (one tensor at a time). */
  data: Float32Array | (() => Float32Array);
}

export interface GgufFile {
  /** Total bytes. */
  size: number;
  /** The file in order; each call starts again from the beginning. */
  chunks(): Generator<Uint8Array>;
}

const utf8 = new TextEncoder();
/** Bytes of each scalar value type. */
export const SCALAR_SIZE: Record<Exclude<GgufScalarType, 'string'>, number> = {
  u8: 1,
  i8: 1,
  u16: 2,
  i16: 2,
  u32: 4,
  i32: 4,
  f32: 4,
  bool: 1,
  u64: 8,
  i64: 8,
  f64: 8,
};

/** Bytes of one tensor's data in `type` (Q8_0: 34 bytes per block of 32 along the innermost dim). */
export function tensorByteSize(shape: number[], type: GgmlTypeName): number {
  const n = shape.reduce((a, b) => a * b, 1);
  if (type === 'F32') return n * 4;
  if (type === 'Q8_0') return (n / 32) * 34;
  return n * 2;
}

/** Q8_0 as ggml's reference quantizer: per block d = max|x| / 127 (stored F16), q = round(x / d). */
export function quantizeQ8_0(x: Float32Array): Uint8Array {
  if (x.length % 32 !== 0) throw new Error(`Q8_0 needs a multiple of 32 values, got ${x.length}`);
  const out = new Uint8Array((x.length / 32) * 34);
  const view = new DataView(out.buffer);
  for (let b = 0; b < x.length / 32; b++) {
    let amax = 0;
    for (let i = 0; i < 32; i++) amax = Math.max(amax, Math.abs(x[b * 32 + i]));
    // float32 arithmetic as the C reference does
    const d = Math.fround(amax / 127);
    const id = d ? Math.fround(1 / d) : 0;
    view.setUint16(b * 34, f32ToF16(d), true);
    for (let i = 0; i < 32; i++) {
      // roundf: half away from zero
      const v = Math.fround(x[b * 32 + i] * id);
      view.setInt8(b * 34 + 2 + i, Math.sign(v) * Math.round(Math.abs(v)));
    }
  }
  return out;
}

function encodeTensor(t: GgufTensor): Uint8Array {
  const data = typeof t.data === 'function' ? t.data() : t.data;
  const n = t.shape.reduce((a, b) => a * b, 1);
  if (data.length !== n) throw new Error(`GGUF tensor ${t.name}: ${data.length} values for [${t.shape}]`);
  const bytes = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  switch (t.type) {
    case 'F32':
      return bytes(data);
    case 'F16':
      return bytes(f32ArrayToF16(data));
    case 'BF16':
      return bytes(f32ArrayToBf16(data));
    case 'Q8_0':
      return quantizeQ8_0(data);
  }
}

/** A growable little-endian byte buffer for the header. */
class ByteWriter {
  private buf = new Uint8Array(1 << 16);
  private view = new DataView(this.buf.buffer);
  length = 0;
  private reserve(n: number) {
    if (this.length + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.length + n));
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }
  u8(v: number) {
    this.reserve(1);
    this.view.setUint8(this.length++, v);
  }
  scalar(type: Exclude<GgufScalarType, 'string'>, v: number | bigint | boolean) {
    const size = SCALAR_SIZE[type];
    this.reserve(size);
    const o = this.length;
    const dv = this.view;
    const num = Number(v);
    switch (type) {
      case 'u8':
      case 'bool':
        dv.setUint8(o, num);
        break;
      case 'i8':
        dv.setInt8(o, num);
        break;
      case 'u16':
        dv.setUint16(o, num, true);
        break;
      case 'i16':
        dv.setInt16(o, num, true);
        break;
      case 'u32':
        dv.setUint32(o, num, true);
        break;
      case 'i32':
        dv.setInt32(o, num, true);
        break;
      case 'f32':
        dv.setFloat32(o, num, true);
        break;
      case 'f64':
        dv.setFloat64(o, num, true);
        break;
      case 'u64':
        dv.setBigUint64(o, BigInt(v as number | bigint), true);
        break;
      case 'i64':
        dv.setBigInt64(o, BigInt(v as number | bigint), true);
        break;
    }
    this.length += size;
  }
  string(s: string) {
    const b = utf8.encode(s);
    this.scalar('u64', b.length);
    this.reserve(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }
  pad(align: number) {
    while (this.length % align !== 0) this.u8(0);
  }
  bytes() {
    return this.buf.slice(0, this.length);
  }
}

function writeValue(w: ByteWriter, key: string, v: GgufValue) {
  w.scalar('u32', GGUF_TYPE[v.type]);
  if (v.type === 'string') return w.string(v.value);
  if (v.type !== 'array') return w.scalar(v.type, v.value);
  w.scalar('u32', GGUF_TYPE[v.itemType]);
  w.scalar('u64', v.value.length);
  for (let i = 0; i < v.value.length; i++) {
    const item = v.value[i];
    if (v.itemType === 'string') {
      if (typeof item !== 'string') throw new Error(`GGUF ${key}[${i}] is not a string`);
      w.string(item);
    } else w.scalar(v.itemType, item as number | bigint | boolean);
  }
}

/**
 * Lays out a GGUF file. `general.alignment` in the metadata (u32) sets the alignment, else 32. Tensor data
 * is encoded lazily by `chunks()`, one tensor at a time.
 */
export function writeGguf(metadata: GgufMetadata, tensors: GgufTensor[]): GgufFile {
  const alignV = metadata.get('general.alignment');
  const align = alignV?.type === 'u32' ? alignV.value : GGUF_DEFAULT_ALIGNMENT;
  if (!(align > 0 && align % 8 === 0))
    throw new Error(`general.alignment must be a multiple of 8, got ${align}`);
  const names = new Set<string>();
  const w = new ByteWriter();
  w.scalar('u32', GGUF_MAGIC);
  w.scalar('u32', GGUF_VERSION);
  w.scalar('u64', tensors.length);
  w.scalar('u64', metadata.size);
  for (const [key, v] of metadata) {
    w.string(key);
    writeValue(w, key, v);
  }
  const sizes: number[] = [];
  let offset = 0;
  for (const t of tensors) {
    if (names.has(t.name)) throw new Error(`GGUF: duplicate tensor name ${t.name}`);
    names.add(t.name);
    if (t.type === 'Q8_0' && t.shape[t.shape.length - 1] % 32 !== 0) {
      throw new Error(`GGUF: ${t.name} [${t.shape}] cannot be Q8_0 (innermost dim not a multiple of 32)`);
    }
    w.string(t.name);
    w.scalar('u32', t.shape.length);
    for (let i = t.shape.length - 1; i >= 0; i--) w.scalar('u64', t.shape[i]);
    w.scalar('u32', GGML_TYPE[t.type]);
    w.scalar('u64', offset);
    const size = tensorByteSize(t.shape, t.type);
    sizes.push(size);
    offset += Math.ceil(size / align) * align;
  }
  w.pad(align);
  const header = w.bytes();
  return {
    size: header.length + offset,
    *chunks() {
      yield header;
      for (let i = 0; i < tensors.length; i++) {
        const data = encodeTensor(tensors[i]);
        if (data.length !== sizes[i])
          throw new Error(`GGUF: ${tensors[i].name} encoded to ${data.length} bytes`);
        yield data;
        const pad = (align - (data.length % align)) % align;
        if (pad) yield new Uint8Array(pad);
      }
    },
  };
}

/** The whole file in one buffer (small files, tests). */
export function ggufBytes(file: GgufFile): Uint8Array {
  const out = new Uint8Array(file.size);
  let o = 0;
  for (const c of file.chunks()) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}
