// GPU accounting for the WebGPU backend (DESIGN §8 "Accounting"): onnxruntime exposes no memory or dispatch
// counter, so the device's createBuffer / GPUBuffer.destroy (live and peak bytes) and its command encoders'
// compute passes (dispatch count) are wrapped on the device object itself. Works on any WebGPU device (Node +
// Dawn, the browser); counters are per process, for the one device this runtime owns. DOM-free, typed locally.

interface CountedBuffer {
  readonly size: number;
  destroy(): void;
}
interface CountedPass {
  dispatchWorkgroups?(...args: unknown[]): void;
  dispatchWorkgroupsIndirect?(...args: unknown[]): void;
}
interface CountedEncoder {
  beginComputePass?(...args: unknown[]): CountedPass;
}
/** The part of a GPUDevice wrapped here. */
export interface CountableDevice {
  createBuffer(desc: { size: number }): CountedBuffer;
  createCommandEncoder(...args: unknown[]): object;
  destroy(): void;
}

export interface GpuMemory {
  /** Bytes of GPU buffers created and not yet destroyed. */
  live: number;
  /** Highest `live` since the device was opened or since resetPeak(). */
  peak: number;
}

const state = { live: 0, peak: 0, dispatches: 0, buffers: 0 };
const counted = new WeakSet<object>();
/** Uncounts a live buffer (once); device.destroy() frees every buffer of the device without destroy() calls. */
type Release = () => void;
const MARK = Symbol.for('lora-studio.gpuCounted');

/** Bytes of GPU buffers alive now and at the peak (zeros when no WebGPU device was counted). */
export function gpuMemory(): GpuMemory {
  return { live: state.live, peak: state.peak };
}

/** Starts a new peak from the bytes alive now (e.g. before a training step). */
export function resetPeak(): void {
  state.peak = state.live;
}

/** Compute dispatches recorded since the device was opened (take differences around the work measured). */
export function dispatches(): number {
  return state.dispatches;
}

/** GPU buffers alive now. */
export function liveBuffers(): number {
  return state.buffers;
}

/**
 * Installs the counters on `device` (once; later calls are no-ops). Buffers are counted by their size when
 * created and uncounted by their first destroy(); dispatches are counted as compute passes record them.
 */
export function countGpu<D extends CountableDevice>(device: D): D {
  const d = device as unknown as Record<string | symbol, unknown>;
  if (d[MARK]) return device;
  const alive = new Set<Release>();
  const createBuffer = device.createBuffer.bind(device);
  d.createBuffer = (desc: { size: number }) => {
    const buffer = createBuffer(desc);
    trackBuffer(buffer, desc.size, alive);
    return buffer;
  };
  const destroyDevice = device.destroy.bind(device);
  d.destroy = () => {
    for (const release of [...alive]) release();
    destroyDevice();
  };
  const createEncoder = device.createCommandEncoder.bind(device);
  d.createCommandEncoder = (...args: unknown[]) => {
    const enc = createEncoder(...args) as CountedEncoder;
    const begin = enc.beginComputePass?.bind(enc);
    if (begin) enc.beginComputePass = (...a: unknown[]) => countPass(begin(...a));
    return enc;
  };
  d[MARK] = true;
  return device;
}

function trackBuffer(buffer: CountedBuffer, size: number, alive: Set<Release>) {
  if (counted.has(buffer)) return;
  counted.add(buffer);
  state.live += size;
  state.buffers++;
  state.peak = Math.max(state.peak, state.live);
  const release: Release = () => {
    if (!alive.delete(release)) return;
    state.live -= size;
    state.buffers--;
  };
  alive.add(release);
  const destroy = buffer.destroy.bind(buffer);
  (buffer as { destroy(): void }).destroy = () => {
    release();
    destroy();
  };
}

function countPass(pass: CountedPass): CountedPass {
  const direct = pass.dispatchWorkgroups?.bind(pass);
  if (direct)
    pass.dispatchWorkgroups = (...a: unknown[]) => {
      state.dispatches++;
      direct(...a);
    };
  const indirect = pass.dispatchWorkgroupsIndirect?.bind(pass);
  if (indirect)
    pass.dispatchWorkgroupsIndirect = (...a: unknown[]) => {
      state.dispatches++;
      indirect(...a);
    };
  return pass;
}
