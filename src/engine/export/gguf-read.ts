// GGUF reader (the layout gguf.ts writes): the header, metadata and tensor infos, every length checked
// against the file before it is used, so a truncated or lying file is a UserError, not a huge allocation;
// and one tensor's values as float32 for checks and tests.

import { UserError } from '../errors';
import { bf16ArrayToF32, f16ArrayToF32, f16ToF32 } from '../io/dtype';
import {
  GGML_TYPE,
  GGUF_DEFAULT_ALIGNMENT,
  GGUF_MAGIC,
  GGUF_TYPE,
  SCALAR_SIZE,
  tensorByteSize,
  type GgmlTypeName,
  type GgufScalarType,
  type GgufValue,
} from './gguf';

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
