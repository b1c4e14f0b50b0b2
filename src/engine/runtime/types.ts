// Backend-neutral runtime types: the rest of the engine sees sessions and tensors only through these, never
// onnxruntime itself (DESIGN §2: one module imports onnxruntime). Implementations: common.ts (shared),
// node.node.ts (onnxruntime-node CPU, onnxruntime-web wasm / WebGPU over Dawn), web.ts (browser, worker).

import type { DeviceLostInfo } from './lost';

export type Backend = 'cpu' | 'wasm' | 'webgpu';
export type DType = 'float32' | 'float16' | 'float64' | 'int32' | 'int64' | 'bool';
/** float16 travels as its bits (Uint16Array); bool as one byte per element (Uint8Array). */
export type TensorData = Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array | Uint16Array;

/** A tensor owned by one Runtime: host memory ('cpu') or a GPU buffer ('gpu'). */
export interface RtTensor {
  readonly dtype: DType;
  readonly dims: readonly number[];
  readonly location: 'cpu' | 'gpu';
}

export interface SessionOptions {
  /** Outputs to keep on the device (webgpu: 'gpu-buffer'); the others come back to the CPU. */
  keepOnDevice?: readonly string[];
  /** Fail instead of silently running nodes on the CPU (webgpu); defaults to the runtime's setting. */
  strict?: boolean;
  /** WebGPU graph capture (static shapes; every input and output must live on the GPU). Host inputs are
   *  written into fixed slots before each run; GPU inputs are bound as they are and must be the same buffer
   *  every run (a different one is an error), except those named in `captureSlots`. */
  graphCapture?: boolean;
  /** Graph capture: GPU inputs that change between runs, copied into fixed slots before each run. */
  captureSlots?: readonly string[];
  /** CPU backend: keep the memory of this session's runs for its next run (a memory arena, without memory
   *  patterns) instead of handing it back to the system after each run. Each such session then holds its own
   *  peak until released; its runs skip mapping and zeroing fresh pages (measured: the SmolLM2 bench step 18 %
   *  faster, and a lower process peak than memory patterns without an arena). Other backends ignore it. */
  reuseMemory?: boolean;
  /** onnxruntime's session profiling (per-node events; WebGPU: per-kernel GPU times where the device has
   *  timestamp-query); endProfiling() emits them (onnxruntime-web: printed as JSON on the console). */
  profile?: boolean;
}

export interface Session {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /** Runs one step. Outputs kept on the device must be disposed by the caller once replaced. `into`: outputs
   *  written into these tensors of the caller (returned as they are). Where the backend can alias (cpu,
   *  webgpu; not wasm, which copies), a tensor given both as an input and in `into` is one buffer, which an op
   *  such as GroupQueryAttention then updates in place. */
  run(feeds: Record<string, RtTensor>, into?: Record<string, RtTensor>): Promise<Record<string, RtTensor>>;
  release(): Promise<void>;
  /** Ends profiling of a session created with `profile` (see SessionOptions.profile). */
  endProfiling?(): Promise<void>;
}

export interface DeviceInfo {
  backend: Backend;
  vendor?: string;
  architecture?: string;
  description?: string;
  /** A software rasteriser (SwiftShader, lavapipe, llvmpipe, WARP): fine for correctness, not for speed. */
  software: boolean;
  /** float16 shaders available (adapter feature 'shader-f16'); always false off WebGPU. */
  f16: boolean;
  /** Bytes; WebGPU device limits as granted (the adapter's maxima). */
  maxBufferSize?: number;
  maxStorageBufferBindingSize?: number;
  /** CPU threads of the cpu/wasm backends (intra-op threads). */
  threads?: number;
}

export interface Runtime {
  readonly info: DeviceInfo;
  /** Resolves when the device is lost (WebGPU: a GPU reset or destroy()); from then on every call fails with
   *  DeviceLostError (lost.ts) and the owner opens a new runtime. Never resolves on cpu/wasm. */
  readonly lost: Promise<DeviceLostInfo>;
  createSession(model: Uint8Array, opts?: SessionOptions): Promise<Session>;
  /** Host tensor over `data` (no copy where the backend allows). */
  tensor(dtype: DType, data: TensorData, dims: readonly number[]): RtTensor;
  /** Tensor resident on the device for repeated use as an input (webgpu: a GPU buffer uploaded once;
   *  cpu/wasm: the host tensor). Dispose it when done. */
  upload(dtype: DType, data: TensorData, dims: readonly number[]): Promise<RtTensor>;
  /** The tensor's values on the host (downloads GPU tensors; the tensor stays on the GPU). */
  read(t: RtTensor): Promise<TensorData>;
  /** Frees a GPU tensor's buffer (no-op for host tensors). Using a disposed tensor is an error. */
  dispose(t: RtTensor): void;
  /** Resolves once the work queued so far (runs, reads, frees of disposed tensors) is done. */
  idle(): Promise<void>;
  /** Releases every session created here and the device. */
  release(): Promise<void>;
  /** WebGPU only: destroys the device as a GPU reset does (fault tests); `lost` then resolves. */
  loseDevice?(): void;
}
