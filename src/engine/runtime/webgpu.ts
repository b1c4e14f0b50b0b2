// WebGPU pieces shared by the browser (web.ts) and Node + Dawn (node.node.ts): adapter/device setup with the
// adapter's limits, native-EP session options, buffer upload/download/copy, and fixed input slots for graph
// capture. Typed structurally so engine code type-checks without the DOM / WebGPU libs. Facts: DESIGN §1.
import type { InferenceSession as OrtSession, Tensor as OrtTensor } from 'onnxruntime-common';
import { countGpu } from './gpu-counters';
import type { DType, DeviceInfo, SessionOptions, TensorData } from './types';

export interface GpuBuffer {
  readonly size: number;
  mapAsync(mode: number): Promise<void>;
  getMappedRange(): ArrayBuffer;
  unmap(): void;
  destroy(): void;
}
export interface GpuDevice {
  readonly limits: object;
  readonly features: { has(name: string): boolean };
  readonly queue: {
    submit(buffers: unknown[]): void;
    writeBuffer(b: GpuBuffer, offset: number, data: Uint8Array): void;
  };
  createBuffer(desc: { size: number; usage: number; mappedAtCreation?: boolean }): GpuBuffer;
  createCommandEncoder(): {
    copyBufferToBuffer(
      src: GpuBuffer,
      srcOffset: number,
      dst: GpuBuffer,
      dstOffset: number,
      size: number,
    ): void;
    finish(): unknown;
  };
  destroy(): void;
  /** Resolves once, when the device is lost (GPUDeviceLostInfo). */
  readonly lost?: Promise<{ reason?: string; message?: string }>;
}
export interface GpuAdapter {
  readonly limits: object;
  readonly features: { has(name: string): boolean };
  readonly info?: { vendor?: string; architecture?: string; description?: string; device?: string };
  readonly isFallbackAdapter?: boolean;
  requestDevice(desc: {
    requiredFeatures?: string[];
    requiredLimits?: Record<string, number>;
  }): Promise<GpuDevice>;
}
export interface Gpu {
  requestAdapter(opts?: { powerPreference?: 'high-performance' | 'low-power' }): Promise<GpuAdapter | null>;
}

const USAGE = { MAP_READ: 0x1, COPY_SRC: 0x4, COPY_DST: 0x8, STORAGE: 0x80 };
const MAP_MODE_READ = 0x1;
// The limits and features onnxruntime requests when it creates a device itself (webgpu_context.cc).
const LIMITS = [
  'maxBindGroups',
  'maxBufferSize',
  'maxStorageBufferBindingSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeWorkgroupsPerDimension',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupSizeZ',
  'maxStorageBuffersPerShaderStage',
];
// timestamp-query: per-kernel GPU times when a session is profiled (SessionOptions.profile); unused otherwise
const FEATURES = ['shader-f16', 'subgroups', 'timestamp-query'];
export const SOFTWARE_ADAPTER = /swiftshader|lavapipe|llvmpipe|softpipe|microsoft basic render|\bwarp\b/i;

export interface WebGpu {
  adapter: GpuAdapter;
  device: GpuDevice;
  info: DeviceInfo;
}

/** Requests an adapter and a device with the adapter's maximal buffer/workgroup limits (so large tensors
 *  fit: the WebGPU defaults are 256 MiB buffers and 128 MiB bindings) and shader-f16 where offered. */
export async function openWebGpu(gpu: Gpu): Promise<WebGpu | null> {
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) return null;
  const al = adapter.limits as Record<string, number>;
  const requiredLimits: Record<string, number> = {};
  for (const k of LIMITS) if (typeof al[k] === 'number') requiredLimits[k] = al[k];
  const requiredFeatures = FEATURES.filter((f) => adapter.features.has(f));
  // counted: live/peak buffer bytes and dispatches (gpu-counters.ts), as ORT exposes neither
  const device = countGpu(await adapter.requestDevice({ requiredFeatures, requiredLimits }));
  const dl = device.limits as Record<string, number>;
  const ai = adapter.info ?? {};
  const text = [ai.vendor, ai.architecture, ai.description, ai.device].join(' ');
  const info: DeviceInfo = {
    backend: 'webgpu',
    vendor: ai.vendor || undefined,
    architecture: ai.architecture || undefined,
    description: ai.description || undefined,
    software: SOFTWARE_ADAPTER.test(text) || adapter.isFallbackAdapter === true,
    f16: device.features.has('shader-f16'),
    maxBufferSize: dl.maxBufferSize,
    maxStorageBufferBindingSize: dl.maxStorageBufferBindingSize,
  };
  return { adapter, device, info };
}

/** ORT session options for the native WebGPU EP on `device`; strict turns CPU fallback into an error. */
export function webgpuSessionOptions(device: GpuDevice, opts: SessionOptions): OrtSession.SessionOptions {
  const o: OrtSession.SessionOptions = {
    executionProviders: [{ name: 'webgpu', device } as OrtSession.ExecutionProviderConfig],
  };
  const keep = opts.keepOnDevice ?? [];
  if (opts.graphCapture) {
    // Graph capture needs every output on the GPU; CapturedIo brings the others back.
    o.enableGraphCapture = true;
    o.preferredOutputLocation = 'gpu-buffer';
  } else if (keep.length) {
    o.preferredOutputLocation = Object.fromEntries(keep.map((k) => [k, 'gpu-buffer' as const]));
  }
  if (opts.strict) o.extra = { session: { disable_cpu_ep_fallback: '1' } };
  return o;
}

export const BYTES: Record<DType, number> = {
  float32: 4,
  float16: 2,
  float64: 8,
  int32: 4,
  int64: 8,
  bool: 1,
};
const ARRAY: Record<DType, new (b: ArrayBuffer) => TensorData> = {
  float32: Float32Array,
  float16: Uint16Array,
  float64: Float64Array,
  int32: Int32Array,
  int64: BigInt64Array,
  bool: Uint8Array,
};
export const byteSize = (dtype: DType, dims: readonly number[]) => dims.reduce((a, b) => a * b, BYTES[dtype]);
const align4 = (n: number) => Math.max(4, Math.ceil(n / 4) * 4);
const bytesOf = (d: TensorData) => new Uint8Array(d.buffer, d.byteOffset, d.byteLength);

export function createStorageBuffer(device: GpuDevice, bytes: number, data?: TensorData): GpuBuffer {
  const usage = USAGE.STORAGE | USAGE.COPY_SRC | USAGE.COPY_DST;
  const buffer = device.createBuffer({ size: align4(bytes), usage, mappedAtCreation: !!data });
  if (data) {
    new Uint8Array(buffer.getMappedRange()).set(bytesOf(data));
    buffer.unmap();
  }
  return buffer;
}

/** The tensor's values on the host; the GPU buffer is untouched. */
export async function downloadTensor(device: GpuDevice, t: OrtTensor): Promise<TensorData> {
  const src = t.gpuBuffer as unknown as GpuBuffer;
  const bytes = byteSize(t.type as DType, t.dims);
  const size = Math.min(align4(bytes), src.size);
  const staging = device.createBuffer({ size, usage: USAGE.MAP_READ | USAGE.COPY_DST });
  try {
    const enc = device.createCommandEncoder();
    enc.copyBufferToBuffer(src, 0, staging, 0, size);
    device.queue.submit([enc.finish()]);
    await staging.mapAsync(MAP_MODE_READ);
    const out = staging.getMappedRange().slice(0, bytes);
    staging.unmap();
    return new ARRAY[t.type as DType](out);
  } finally {
    staging.destroy();
  }
}

type Ort = { Tensor: typeof OrtTensor };
const gpuTensor = (
  ort: Ort,
  buffer: GpuBuffer,
  dtype: DType,
  dims: readonly number[],
  dispose?: () => void,
) => ort.Tensor.fromGpuBuffer(buffer as never, { dataType: dtype as 'float32', dims, dispose });

/** A GPU tensor holding a copy of `data`, freed by Tensor.dispose(). */
export function uploadTensor(
  ort: Ort,
  device: GpuDevice,
  dtype: DType,
  data: TensorData,
  dims: readonly number[],
) {
  const buffer = createStorageBuffer(device, data.byteLength, data);
  return gpuTensor(ort, buffer, dtype, dims, () => buffer.destroy());
}

/**
 * Graph capture replays the recorded dispatches on the buffers of the first run, whatever is fed later, and
 * returns the same output buffers every run (measured: fresh inputs were silently ignored). So host inputs, and
 * GPU inputs named in `copied` (those that change between runs), are copied into fixed slots before each run;
 * other GPU inputs (weights, a KV cache updated in place) and outputs given by the caller are bound as they are,
 * with no copy, and must be the very buffers the capture recorded: another buffer is an error, not a silent
 * replay on stale data. Outputs are copied out, keeping the usual session semantics. An output given by the
 * caller must be a buffer onnxruntime allocated (an output of another run, as generate/cache.ts's zeros): ours
 * are unregistered after each run, and later runs look the output up by the first run's released handle.
 */
export class CapturedIo {
  private slots = new Map<string, { buffer: GpuBuffer; tensor: OrtTensor; dims: string }>();
  /** Inputs and outputs bound straight through: the buffer each had when the graph was captured. */
  private bound = new Map<string, GpuBuffer>();
  constructor(
    private readonly ort: Ort,
    private readonly device: GpuDevice,
    private readonly copied: ReadonlySet<string> = new Set(),
  ) {}

  private bind(name: string, t: OrtTensor) {
    const buffer = t.gpuBuffer as unknown as GpuBuffer;
    const was = this.bound.get(name);
    if (!was) this.bound.set(name, buffer);
    else if (was !== buffer)
      throw new Error(
        `graph capture: ${name} is not the GPU buffer the graph was captured with (bind the same tensor every ` +
          `run, name it in captureSlots, or create a new session)`,
      );
  }

  feed(feeds: Record<string, OrtTensor>, into: Record<string, OrtTensor> = {}): Record<string, OrtTensor> {
    const enc = this.device.createCommandEncoder();
    const out: Record<string, OrtTensor> = {};
    for (const [name, t] of Object.entries(into)) this.bind(name, t);
    for (const [name, t] of Object.entries(feeds)) {
      if (t.location === 'gpu-buffer' && !this.copied.has(name)) {
        this.bind(name, t);
        out[name] = t;
        continue;
      }
      const dtype = t.type as DType;
      const bytes = byteSize(dtype, t.dims);
      let slot = this.slots.get(name);
      if (!slot) {
        const buffer = createStorageBuffer(this.device, bytes);
        slot = { buffer, tensor: gpuTensor(this.ort, buffer, dtype, t.dims), dims: `${dtype}${t.dims}` };
        this.slots.set(name, slot);
      }
      if (slot.dims !== `${dtype}${t.dims}`)
        throw new Error(`graph capture: input ${name} changed dtype or shape`);
      if (t.location === 'gpu-buffer') {
        enc.copyBufferToBuffer(t.gpuBuffer as unknown as GpuBuffer, 0, slot.buffer, 0, align4(bytes));
      } else {
        const b = bytesOf(t.data as TensorData);
        const padded = new Uint8Array(align4(b.byteLength)); // writeBuffer takes whole 4-byte words
        padded.set(b);
        this.device.queue.writeBuffer(slot.buffer, 0, padded);
      }
      out[name] = slot.tensor;
    }
    this.device.queue.submit([enc.finish()]);
    return out;
  }

  /** Fresh copies of the captured outputs: on the GPU for `keep`, on the host for the others. */
  async collect(
    outs: Record<string, OrtTensor>,
    keep: ReadonlySet<string>,
  ): Promise<Record<string, OrtTensor>> {
    const res: Record<string, OrtTensor> = {};
    const enc = this.device.createCommandEncoder();
    for (const [name, t] of Object.entries(outs)) {
      if (!keep.has(name)) continue;
      const dtype = t.type as DType;
      const bytes = byteSize(dtype, t.dims);
      const buffer = createStorageBuffer(this.device, bytes);
      enc.copyBufferToBuffer(t.gpuBuffer as unknown as GpuBuffer, 0, buffer, 0, align4(bytes));
      res[name] = gpuTensor(this.ort, buffer, dtype, t.dims, () => buffer.destroy());
    }
    this.device.queue.submit([enc.finish()]);
    for (const [name, t] of Object.entries(outs)) {
      if (!keep.has(name))
        res[name] = new this.ort.Tensor(t.type, await downloadTensor(this.device, t), t.dims);
    }
    return res;
  }

  release() {
    for (const s of this.slots.values()) s.buffer.destroy();
    this.slots.clear();
  }
}
