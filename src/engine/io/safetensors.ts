// safetensors reader and writer (https://github.com/huggingface/safetensors): u64 LE header length, a JSON
// header {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__"?: {str: str}}, then the data.
// Files are untrusted: every size and offset is checked against the file before anything is allocated,
// and each violation is a UserError naming the file. The writer pads the header with spaces to 8 bytes.

import { UserError } from '../errors';
import { bf16ArrayToF32, f16ArrayToF32, f32ArrayToBf16, f32ArrayToF16 } from './dtype';

export type StDType =
  | 'F64'
  | 'F32'
  | 'F16'
  | 'BF16'
  | 'I64'
  | 'I32'
  | 'I16'
  | 'I8'
  | 'U64'
  | 'U32'
  | 'U16'
  | 'U8'
  | 'BOOL'
  | 'F8_E4M3'
  | 'F8_E5M2';

/** Bytes per element of each dtype this reader knows. */
export const DTYPE_SIZE: Readonly<Record<StDType, number>> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U64: 8,
  U32: 4,
  U16: 2,
  U8: 1,
  BOOL: 1,
  F8_E4M3: 1,
  F8_E5M2: 1,
};

export interface StEntry {
  dtype: StDType;
  shape: number[];
  /** Absolute byte offsets in the file: data is bytes[begin, end). */
  begin: number;
  end: number;
}

export interface StHeader {
  entries: Map<string, StEntry>;
  metadata: Record<string, string>;
  /** Absolute offset of the data region (8 + header length). */
  dataStart: number;
}

/** Largest header accepted (the reference implementation's limit). */
export const MAX_HEADER_BYTES = 100_000_000;

/**
 * Header length from the first 8 bytes, checked against the file size. A loader can read 8 bytes, call
 * this, then read `8 + n` bytes and pass them to `parseHeader` with the same `fileSize`.
 */
export function headerLength(bytes: Uint8Array, fileName = 'safetensors', fileSize = bytes.length): number {
  if (fileSize < 8 || bytes.length < 8) {
    throw new UserError(`not a safetensors file: ${fileSize} bytes, too short for a header`, fileName);
  }
  const n = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(fileSize - 8)) {
    throw new UserError(`header says ${n} bytes but the file has ${fileSize}`, fileName);
  }
  if (n > BigInt(MAX_HEADER_BYTES)) {
    throw new UserError(`header of ${n} bytes is larger than the ${MAX_HEADER_BYTES}-byte limit`, fileName);
  }
  return Number(n);
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Parses and validates the header. `bytes` may hold just the start of the file (at least 8 + header
 * length bytes) when `fileSize` gives the whole file's size; offsets are checked against `fileSize`.
 */
export function parseHeader(bytes: Uint8Array, fileName = 'safetensors', fileSize = bytes.length): StHeader {
  const n = headerLength(bytes, fileName, fileSize);
  if (bytes.length < 8 + n) {
    throw new UserError(
      `truncated: the header needs ${8 + n} bytes but only ${bytes.length} were read`,
      fileName,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n)));
  } catch (e) {
    throw new UserError(`header is not valid JSON (${(e as Error).message})`, fileName);
  }
  if (!isObject(json)) throw new UserError('header is not a JSON object', fileName);

  const dataStart = 8 + n;
  const dataSize = fileSize - dataStart;
  const entries = new Map<string, StEntry>();
  let metadata: Record<string, string> = {};
  for (const [name, info] of Object.entries(json)) {
    if (name === '__metadata__') {
      metadata = parseMetadata(info, fileName);
      continue;
    }
    const bad = (problem: string) => new UserError(`tensor '${name}': ${problem}`, fileName);
    if (!isObject(info)) throw bad('entry is not an object');
    const dtype = info.dtype;
    if (typeof dtype !== 'string' || !Object.hasOwn(DTYPE_SIZE, dtype)) {
      throw bad(`unknown dtype ${JSON.stringify(dtype)}`);
    }
    const size = DTYPE_SIZE[dtype as StDType];
    const shape = info.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw bad(`shape ${JSON.stringify(shape)} is not a list of non-negative integers`);
    }
    const offs = info.data_offsets;
    if (
      !Array.isArray(offs) ||
      offs.length !== 2 ||
      !offs.every((o) => Number.isSafeInteger(o) && o >= 0) ||
      offs[0] > offs[1]
    ) {
      throw bad(`data_offsets ${JSON.stringify(offs)} are not [begin, end] with 0 <= begin <= end`);
    }
    const [b, e] = offs as [number, number];
    if (e > dataSize) {
      throw bad(
        `data_offsets [${b}, ${e}] run past the end of the data (${dataSize} bytes): truncated file?`,
      );
    }
    // Byte count in BigInt, stopping once past the span: a lying shape cannot overflow or blow up.
    let need = shape.includes(0) ? 0n : BigInt(size);
    for (const d of shape as number[]) if (need <= BigInt(e - b)) need *= BigInt(d);
    if (need !== BigInt(e - b)) {
      const what =
        need > BigInt(e - b) && shape.length > 8 ? `${shape.length}-d shape` : `[${shape.join(', ')}]`;
      throw bad(
        `data_offsets span ${e - b} bytes but ${dtype} ${what} needs ${need > BigInt(e - b) ? 'more' : need}`,
      );
    }
    entries.set(name, {
      dtype: dtype as StDType,
      shape: [...(shape as number[])],
      begin: dataStart + b,
      end: dataStart + e,
    });
  }
  checkOverlaps(entries, fileName);
  return { entries, metadata, dataStart };
}

function parseMetadata(info: unknown, fileName: string): Record<string, string> {
  if (!isObject(info)) throw new UserError('__metadata__ is not an object', fileName);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(info)) {
    if (typeof v !== 'string') throw new UserError(`__metadata__ '${k}' is not a string`, fileName);
    out[k] = v;
  }
  return out;
}

function checkOverlaps(entries: Map<string, StEntry>, fileName: string): void {
  const spans = [...entries].filter(([, e]) => e.end > e.begin).sort((a, b) => a[1].begin - b[1].begin);
  for (let i = 1; i < spans.length; i++) {
    const [prevName, prev] = spans[i - 1];
    const [name, cur] = spans[i];
    if (cur.begin < prev.end) {
      throw new UserError(`tensors '${prevName}' and '${name}' overlap in the data region`, fileName);
    }
  }
}

/** Raw bytes of one tensor (a view, no copy). `bytes` is the whole file. */
export function tensorBytes(bytes: Uint8Array, entry: StEntry, fileName = 'safetensors'): Uint8Array {
  if (entry.end > bytes.length) {
    throw new UserError(
      `truncated: a tensor ends at byte ${entry.end} but only ${bytes.length} were read`,
      fileName,
    );
  }
  return bytes.subarray(entry.begin, entry.end);
}

/** A tensor's raw bytes as an aligned buffer of `bytesPer`-byte elements (a view when already aligned). */
function aligned(raw: Uint8Array, bytesPer: number): ArrayBuffer {
  if (raw.byteOffset % bytesPer === 0 && raw.buffer instanceof ArrayBuffer) return raw.buffer;
  return raw.slice().buffer;
}

/**
 * A float tensor as float32 values: F32 is a view into `bytes` when aligned (else a copy); F16, BF16 and
 * F64 are converted (F16/BF16 exactly). `bytes` is the whole file (offsets are absolute).
 */
export function readFloat32(
  bytes: Uint8Array,
  entry: StEntry,
  fileName = 'safetensors',
  name = 'tensor',
): Float32Array {
  const raw = tensorBytes(bytes, entry, fileName);
  const n = raw.length / DTYPE_SIZE[entry.dtype];
  const off = (buf: ArrayBuffer) => (buf === raw.buffer ? raw.byteOffset : 0);
  switch (entry.dtype) {
    case 'F32': {
      const buf = aligned(raw, 4);
      return new Float32Array(buf, off(buf), n);
    }
    case 'F16':
    case 'BF16': {
      const buf = aligned(raw, 2);
      const bits = new Uint16Array(buf, off(buf), n);
      return entry.dtype === 'F16' ? f16ArrayToF32(bits) : bf16ArrayToF32(bits);
    }
    case 'F64': {
      const buf = aligned(raw, 8);
      return Float32Array.from(new Float64Array(buf, off(buf), n));
    }
    default:
      throw new UserError(
        `'${name}' has dtype ${entry.dtype}; expected a float tensor (F32, F16, BF16)`,
        fileName,
      );
  }
}

export type StWriteDType = 'F32' | 'F16' | 'BF16' | 'I32' | 'I64';

export interface StWriteTensor {
  dtype: StWriteDType;
  shape: number[];
  /** F16/BF16 take float32 values (converted) or raw 16-bit patterns (Uint16Array). */
  data: Float32Array | Uint16Array | Int32Array | BigInt64Array;
}

function encode(name: string, t: StWriteTensor): Uint8Array {
  const numel = t.shape.reduce((a, b) => a * b, 1);
  if (t.data.length !== numel) {
    throw new Error(
      `safetensors write: '${name}' has ${t.data.length} values for shape [${t.shape.join(', ')}]`,
    );
  }
  const want = {
    F32: Float32Array,
    F16: Uint16Array,
    BF16: Uint16Array,
    I32: Int32Array,
    I64: BigInt64Array,
  }[t.dtype];
  let data = t.data;
  if ((t.dtype === 'F16' || t.dtype === 'BF16') && data instanceof Float32Array) {
    data = t.dtype === 'F16' ? f32ArrayToF16(data) : f32ArrayToBf16(data);
  }
  if (!(data instanceof want))
    throw new Error(`safetensors write: '${name}' data does not match dtype ${t.dtype}`);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/**
 * Serialises tensors (host little-endian). The header lists names sorted; data is laid out by element size
 * (largest first), then name, so every tensor starts aligned to its element size, as the reference does.
 */
export function writeSafetensors(
  tensors: Record<string, StWriteTensor>,
  metadata?: Record<string, string>,
): Uint8Array {
  const names = Object.keys(tensors).sort();
  const size = (n: string) => DTYPE_SIZE[tensors[n].dtype];
  const order = [...names].sort((a, b) => size(b) - size(a) || (a < b ? -1 : a > b ? 1 : 0));
  const blobs = new Map<string, Uint8Array>();
  const offsets = new Map<string, [number, number]>();
  let pos = 0;
  for (const n of order) {
    const blob = encode(n, tensors[n]);
    blobs.set(n, blob);
    offsets.set(n, [pos, pos + blob.length]);
    pos += blob.length;
  }
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  for (const n of names) {
    header[n] = { dtype: tensors[n].dtype, shape: tensors[n].shape, data_offsets: offsets.get(n) };
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const pad = (8 - (json.length % 8)) % 8;
  if (pad > 0) {
    const padded = new Uint8Array(json.length + pad).fill(0x20);
    padded.set(json);
    json = padded;
  }
  const out = new Uint8Array(8 + json.length + pos);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  for (const n of order) out.set(blobs.get(n)!, 8 + json.length + offsets.get(n)![0]);
  return out;
}
