// GGUF v3 writer and a bounds-checked reader (https://github.com/ggml-org/ggml/blob/master/docs/gguf.md):
// "GGUF", u32 version, u64 tensor count, u64 KV count, the KV pairs (u64-length strings, u32 value types,
// arrays as u32 item type + u64 count), the tensor infos (name, u32 n_dims, u64 dims innermost first, u32 ggml
// type, u64 offset into the data section), padding to `general.alignment`, then each tensor's data, aligned.
// The writer yields the file as chunks, so a multi-GB model is never one buffer.

import { UserError } from '../errors';
import {
  bf16ArrayToF32,
  f16ArrayToF32,
  f16ToF32,
  f32ArrayToBf16,
  f32ArrayToF16,
  f32ToF16,
} from '../io/dtype';

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
const SCALAR_SIZE: Record<Exclude<GgufScalarType, 'string'>, number> = {
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

export interface GgufTensorInfo {
  name: string;
  /** PyTorch order (the file's dims reversed). */
  shape: number[];
  type: number;
  /** Absolute byte offset in the file. */
  offset: number;
}

export interface ParsedGguf {
  version: number;
  metadata: Map<string, GgufValue>;
  tensors: GgufTensorInfo[];
  alignment: number;
}

/** Parses a GGUF header; every length is checked against the file before it is used. */
export function readGguf(bytes: Uint8Array, file = 'gguf'): ParsedGguf {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let o = 0;
  const fail = (msg: string): never => {
    throw new UserError(msg, file);
  };
  const need = (n: number) => {
    if (o + n > bytes.length) fail(`truncated at byte ${o}`);
  };
  const u32 = () => (need(4), (o += 4), dv.getUint32(o - 4, true));
  const u64 = () => {
    need(8);
    o += 8;
    const v = dv.getBigUint64(o - 8, true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) fail(`value ${v} too large at byte ${o - 8}`);
    return Number(v);
  };
  const str = () => {
    const n = u64();
    need(n);
    o += n;
    return new TextDecoder().decode(bytes.subarray(o - n, o));
  };
  const scalar = (t: GgufScalarType): number | bigint | boolean | string => {
    if (t === 'string') return str();
    const size = SCALAR_SIZE[t];
    need(size);
    o += size;
    const p = o - size;
    const read = {
      u8: () => dv.getUint8(p),
      i8: () => dv.getInt8(p),
      u16: () => dv.getUint16(p, true),
      i16: () => dv.getInt16(p, true),
      u32: () => dv.getUint32(p, true),
      i32: () => dv.getInt32(p, true),
      f32: () => dv.getFloat32(p, true),
      f64: () => dv.getFloat64(p, true),
      bool: () => dv.getUint8(p) !== 0,
      u64: () => dv.getBigUint64(p, true),
      i64: () => dv.getBigInt64(p, true),
    };
    return read[t]();
  };
  const typeName = (id: number): keyof typeof GGUF_TYPE => {
    const name = (Object.keys(GGUF_TYPE) as (keyof typeof GGUF_TYPE)[]).find((k) => GGUF_TYPE[k] === id);
    return name ?? fail(`unknown value type ${id}`);
  };
  if (u32() !== GGUF_MAGIC) fail('not a GGUF file (bad magic)');
  const version = u32();
  if (version !== 2 && version !== 3) fail(`GGUF version ${version} is not supported`);
  const nTensors = u64();
  const nKv = u64();
  const metadata = new Map<string, GgufValue>();
  for (let i = 0; i < nKv; i++) {
    const key = str();
    const t = typeName(u32());
    if (t === 'array') {
      const itemType = typeName(u32());
      if (itemType === 'array') fail(`${key}: nested arrays are not supported`);
      const n = u64();
      if (itemType !== 'string') need(n * SCALAR_SIZE[itemType as Exclude<GgufScalarType, 'string'>]);
      else need(n * 8);
      const value: (number | bigint | boolean | string)[] = [];
      for (let j = 0; j < n; j++) value.push(scalar(itemType as GgufScalarType));
      metadata.set(key, { type: 'array', itemType: itemType as GgufScalarType, value });
    } else {
      metadata.set(key, { type: t, value: scalar(t) } as GgufValue);
    }
  }
  const alignV = metadata.get('general.alignment');
  const alignment = alignV?.type === 'u32' ? alignV.value : GGUF_DEFAULT_ALIGNMENT;
  const tensors: GgufTensorInfo[] = [];
  const rel: number[] = [];
  for (let i = 0; i < nTensors; i++) {
    const name = str();
    const nDims = u32();
    if (nDims > 4) fail(`${name}: ${nDims} dims`);
    const dims: number[] = [];
    for (let d = 0; d < nDims; d++) dims.push(u64());
    const type = u32();
    rel.push(u64());
    tensors.push({ name, shape: dims.reverse(), type, offset: 0 });
  }
  const dataStart = Math.ceil(o / alignment) * alignment;
  tensors.forEach((t, i) => {
    t.offset = dataStart + rel[i];
    if (rel[i] % alignment !== 0) fail(`${t.name}: offset ${rel[i]} not aligned to ${alignment}`);
    const known = Object.values(GGML_TYPE) as number[];
    if (known.includes(t.type)) {
      const name = (Object.keys(GGML_TYPE) as GgmlTypeName[]).find((k) => GGML_TYPE[k] === t.type)!;
      if (t.offset + tensorByteSize(t.shape, name) > bytes.length) fail(`${t.name}: data runs past the end`);
    }
  });
  return { version, metadata, tensors, alignment };
}

/** One tensor's values as float32 (F32, F16, BF16, Q8_0), for checks and tests. */
export function readGgufTensor(bytes: Uint8Array, t: GgufTensorInfo): Float32Array {
  const n = t.shape.reduce((a, b) => a * b, 1);
  const copy = (size: number) => bytes.slice(t.offset, t.offset + n * size).buffer;
  switch (t.type) {
    case GGML_TYPE.F32:
      return new Float32Array(copy(4));
    case GGML_TYPE.F16:
      return f16ArrayToF32(new Uint16Array(copy(2)));
    case GGML_TYPE.BF16:
      return bf16ArrayToF32(new Uint16Array(copy(2)));
    case GGML_TYPE.Q8_0: {
      const out = new Float32Array(n);
      const dv = new DataView(bytes.buffer, bytes.byteOffset + t.offset, (n / 32) * 34);
      for (let b = 0; b < n / 32; b++) {
        const d = f16ToF32(dv.getUint16(b * 34, true));
        for (let i = 0; i < 32; i++) out[b * 32 + i] = d * dv.getInt8(b * 34 + 2 + i);
      }
      return out;
    }
    default:
      throw new UserError(`${t.name}: ggml type ${t.type} cannot be read here`);
  }
}
