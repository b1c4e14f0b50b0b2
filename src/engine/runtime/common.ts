// Runtime over any onnxruntime JS binding (onnxruntime-node, onnxruntime-web): one queue for all session
// work (ORT runs are not re-entrant), tensor wrapping, and the WebGPU parts shared by the browser (web.ts)
// and Node + Dawn (node.node.ts): adapter/device setup with the adapter's limits, session options for the
// native WebGPU EP, GPU upload/download. Facts relied on: DESIGN §1. Only type imports of onnxruntime here.
import type { InferenceSession as OrtSession, Tensor as OrtTensor } from 'onnxruntime-common';
import type { Backend, DType, DeviceInfo, RtTensor, Runtime, Session, SessionOptions, TensorData } from './types';

/** The part of an onnxruntime module used here (onnxruntime-node and onnxruntime-web both fit). */
export interface OrtModule {
  InferenceSession: { create(model: Uint8Array, options?: OrtSession.SessionOptions): Promise<OrtSession> };
  Tensor: typeof OrtTensor;
}

// ---- the WebGPU surface we use (structural: engine code type-checks without DOM / WebGPU libs) ----
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
  readonly queue: { submit(buffers: unknown[]): void };
  createBuffer(desc: { size: number; usage: number; mappedAtCreation?: boolean }): GpuBuffer;
  createCommandEncoder(): {
    copyBufferToBuffer(src: GpuBuffer, srcOffset: number, dst: GpuBuffer, dstOffset: number, size: number): void;
    finish(): unknown;
  };
  destroy(): void;
}
export interface GpuAdapter {
  readonly limits: object;
  readonly features: { has(name: string): boolean };
  readonly info?: { vendor?: string; architecture?: string; description?: string; device?: string };
  readonly isFallbackAdapter?: boolean;
  requestDevice(desc: { requiredFeatures?: string[]; requiredLimits?: Record<string, number> }): Promise<GpuDevice>;
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
const FEATURES = ['shader-f16', 'subgroups'];
const SOFTWARE = /swiftshader|lavapipe|llvmpipe|softpipe|microsoft basic render|\bwarp\b/i;

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
  const al = adapter.limits as unknown as Record<string, number>;
  const requiredLimits: Record<string, number> = {};
  for (const k of LIMITS) if (typeof al[k] === 'number') requiredLimits[k] = al[k];
  const requiredFeatures = FEATURES.filter((f) => adapter.features.has(f));
  const device = await adapter.requestDevice({ requiredFeatures, requiredLimits });
  const dl = device.limits as unknown as Record<string, number>;
  const ai = adapter.info ?? {};
  const text = [ai.vendor, ai.architecture, ai.description, ai.device].join(' ');
  const info: DeviceInfo = {
    backend: 'webgpu',
    vendor: ai.vendor || undefined,
    architecture: ai.architecture || undefined,
    description: ai.description || undefined,
    software: SOFTWARE.test(text) || adapter.isFallbackAdapter === true,
    f16: device.features.has('shader-f16'),
    maxBufferSize: dl.maxBufferSize,
    maxStorageBufferBindingSize: dl.maxStorageBufferBindingSize,
  };
  return { adapter, device, info };
}

const BYTES: Record<DType, number> = { float32: 4, float16: 2, float64: 8, int32: 4, int64: 8, bool: 1 };
const ARRAY: Record<DType, new (b: ArrayBuffer) => TensorData> = {
  float32: Float32Array,
  float16: Uint16Array,
  float64: Float64Array,
  int32: Int32Array,
  int64: BigInt64Array,
  bool: Uint8Array,
};
const numel = (dims: readonly number[]) => dims.reduce((a, b) => a * b, 1);
const align4 = (n: number) => Math.max(4, Math.ceil(n / 4) * 4);

/** Copies `byteLength` bytes of a GPU buffer to the host; the buffer itself is untouched. */
export async function downloadBuffer(device: GpuDevice, src: GpuBuffer, byteLength: number): Promise<ArrayBuffer> {
  const size = Math.min(align4(byteLength), src.size);
  const staging = device.createBuffer({ size, usage: USAGE.MAP_READ | USAGE.COPY_DST });
  try {
    const enc = device.createCommandEncoder();
    enc.copyBufferToBuffer(src, 0, staging, 0, size);
    device.queue.submit([enc.finish()]);
    await staging.mapAsync(MAP_MODE_READ);
    const out = staging.getMappedRange().slice(0, byteLength);
    staging.unmap();
    return out;
  } finally {
    staging.destroy();
  }
}

/** Serialises async work: ORT session creation, runs and GPU reads never overlap. */
export class Queue {
  private tail: Promise<unknown> = Promise.resolve();
  run<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.tail.then(fn);
    this.tail = p.catch(() => undefined);
    return p;
  }
}

class Tensor implements RtTensor {
  disposed = false;
  constructor(
    readonly ort: OrtTensor,
    readonly owner: object,
  ) {}
  get dtype(): DType {
    return this.ort.type as DType;
  }
  get dims(): readonly number[] {
    return this.ort.dims;
  }
  get location(): 'cpu' | 'gpu' {
    return this.ort.location === 'gpu-buffer' ? 'gpu' : 'cpu';
  }
}

export interface OrtRuntimeConfig {
  ort: OrtModule;
  info: DeviceInfo;
  /** The WebGPU device ORT runs on (webgpu backend only). */
  device?: GpuDevice;
  /** Default for SessionOptions.strict. */
  strict?: boolean;
  /** Backend-specific ORT session options (execution providers, threads). */
  sessionOptions(opts: SessionOptions): OrtSession.SessionOptions;
  /** Called once after every session is released. */
  onRelease?(): void | Promise<void>;
}

/** ORT session options for the native WebGPU EP on `device`; strict turns CPU fallback into an error. */
export function webgpuSessionOptions(device: GpuDevice, opts: SessionOptions): OrtSession.SessionOptions {
  const o: OrtSession.SessionOptions = {
    executionProviders: [{ name: 'webgpu', device } as OrtSession.ExecutionProviderConfig],
  };
  const keep = opts.keepOnDevice ?? [];
  if (keep.length) o.preferredOutputLocation = Object.fromEntries(keep.map((k) => [k, 'gpu-buffer' as const]));
  if (opts.graphCapture) o.enableGraphCapture = true;
  if (opts.strict) o.extra = { session: { disable_cpu_ep_fallback: '1' } };
  return o;
}

export function createOrtRuntime(cfg: OrtRuntimeConfig): Runtime {
  const { ort, device } = cfg;
  const backend: Backend = cfg.info.backend;
  const queue = new Queue();
  const sessions = new Set<OrtSession>();
  const owner = {};
  let released = false;

  const alive = () => {
    if (released) throw new Error(`${backend} runtime already released`);
  };
  const own = (t: RtTensor, what: string): Tensor => {
    if (!(t instanceof Tensor)) throw new Error(`${what}: not a runtime tensor`);
    if (t.disposed) throw new Error(`${what}: tensor was disposed`);
    if (t.owner !== owner) {
      // Host tensors move freely between runtimes; device tensors cannot.
      if (t.location === 'gpu') throw new Error(`${what}: GPU tensor of another runtime`);
      return new Tensor(new ort.Tensor(t.dtype, t.ort.data as TensorData, t.dims), owner);
    }
    return t;
  };

  const runtime: Runtime = {
    info: cfg.info,

    async createSession(model, opts = {}) {
      alive();
      const o = { ...opts, strict: opts.strict ?? cfg.strict ?? false };
      const so = cfg.sessionOptions(o);
      const s = await queue.run(() => ort.InferenceSession.create(model, so));
      for (const name of o.keepOnDevice ?? []) {
        if (!s.outputNames.includes(name)) {
          await s.release();
          throw new Error(`keepOnDevice: no output named ${name}`);
        }
      }
      sessions.add(s);
      let open = true;
      const session: Session = {
        inputNames: s.inputNames,
        outputNames: s.outputNames,
        run: (feeds) =>
          queue.run(async () => {
            alive();
            if (!open) throw new Error('session already released');
            const f: Record<string, OrtTensor> = {};
            for (const [k, t] of Object.entries(feeds)) f[k] = own(t, `input ${k}`).ort;
            const out = await s.run(f);
            const res: Record<string, RtTensor> = {};
            for (const [k, v] of Object.entries(out)) res[k] = new Tensor(v as OrtTensor, owner);
            return res;
          }),
        release: () =>
          queue.run(async () => {
            if (!open) return;
            open = false;
            sessions.delete(s);
            await s.release();
          }),
      };
      return session;
    },

    tensor(dtype, data, dims) {
      alive();
      return new Tensor(new ort.Tensor(dtype, data, dims), owner);
    },

    async upload(dtype, data, dims) {
      alive();
      if (!device || dtype === 'float64') return runtime.tensor(dtype, data, dims);
      const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
      const buffer = device.createBuffer({
        size: align4(bytes.byteLength),
        usage: USAGE.STORAGE | USAGE.COPY_SRC | USAGE.COPY_DST,
        mappedAtCreation: true,
      });
      new Uint8Array(buffer.getMappedRange()).set(bytes);
      buffer.unmap();
      const t = ort.Tensor.fromGpuBuffer(buffer as never, { dataType: dtype, dims, dispose: () => buffer.destroy() });
      return new Tensor(t, owner);
    },

    async read(t) {
      const x = own(t, 'read');
      if (x.location === 'cpu') return x.ort.data as TensorData;
      const n = numel(x.dims) * BYTES[x.dtype];
      const buf = await queue.run(() => downloadBuffer(device!, x.ort.gpuBuffer as unknown as GpuBuffer, n));
      return new ARRAY[x.dtype](buf);
    },

    dispose(t) {
      if (!(t instanceof Tensor) || t.disposed) return;
      t.disposed = true;
      if (t.location === 'gpu') t.ort.dispose();
    },

    release: () =>
      queue.run(async () => {
        if (released) return;
        released = true;
        for (const s of sessions) await s.release();
        sessions.clear();
        await cfg.onRelease?.();
      }),
  };
  return runtime;
}
