// What the engine worker holds between calls: the runtime (it owns the WebGPU device, so base weights are
// uploaded once and shared by training and chat), the loaded model with its tokenizer and chat template,
// and the IndexedDB connection. Only ids and numbers leave the worker, never tensors. The model's weights
// stay in their files (OPFS, the picked files): the upload reads them tensor by tensor and keeps no host
// copy beside the device's; exports read them again. A lost GPU device (a reset) drops the runtime and the
// weights on it: the next call opens a new device and uploads the weights again.
import { UserError } from '../src/engine/errors';
import { DeviceModel } from '../src/engine/model/device';
import type { ModelReader } from '../src/engine/model/weights';
import type { DeviceLostInfo } from '../src/engine/runtime/lost';
import { createWebRuntime } from '../src/engine/runtime/web';
import type { DeviceInfo, Runtime } from '../src/engine/runtime/types';
import type { TextTokenizer } from '../src/engine/text/tokenizer';
import { openStudioDB, type DB } from '../src/storage';

export type BackendPreference = 'auto' | 'webgpu' | 'wasm';

export interface DeviceReport extends DeviceInfo {
  /** Why WebGPU is not used, when the runtime fell back to wasm. */
  fallbackReason?: string;
  crossOriginIsolated: boolean;
  /** A short line for the header, e.g. "WebGPU · google swiftshader (software)". */
  summary: string;
}

export interface ModelState {
  model: ModelReader;
  /** config.json as written (the parsed config fills defaults): merged exports copy it. */
  configJson?: unknown;
  /** Display label (repo id or folder name). */
  label: string;
  tokenizer?: TextTokenizer;
  template?: string;
  templateKwargs: Record<string, unknown>;
}

let runtime: Promise<Runtime> | undefined;
let preferred: BackendPreference = 'auto';
let current: ModelState | undefined;
/** The current model's weights on the device: uploaded once, shared by training and chat. */
let device: Promise<DeviceModel> | undefined;
/** Device losses seen by this worker (the newest last). */
const losses: DeviceLostInfo[] = [];

/** The app's own /ort/ folder, where vite.config.ts puts onnxruntime-web's wasm runtime files. */
const wasmPaths = () => new URL(`${import.meta.env.BASE_URL}ort/`, self.location.origin).href;

export function openRuntime(prefer: BackendPreference): Promise<Runtime> {
  if (!runtime) {
    preferred = prefer;
    const p = createWebRuntime({ prefer: prefer === 'wasm' ? 'wasm' : 'webgpu', wasmPaths: wasmPaths() });
    runtime = p;
    p.then(
      (rt) => void rt.lost.then((info) => runtime === p && deviceLost(info)),
      () => runtime === p && (runtime = undefined),
    );
  }
  return runtime;
}

/** The runtime, reopened with the first preference after a device loss. */
export async function getRuntime(): Promise<Runtime> {
  return openRuntime(preferred);
}

/** Forgets the lost device and everything on it; the model itself (its files, tokenizer) stays loaded. */
function deviceLost(info: DeviceLostInfo) {
  losses.push(info);
  const old = runtime;
  runtime = undefined;
  const weights = device;
  device = undefined;
  void weights?.then((d) => d.dispose()).catch(() => undefined);
  // sessions of the dead device hold host memory in ORT's heap: release them (their buffers are gone already)
  void old?.then((rt) => rt.release()).catch(() => undefined);
}

/** What a run training on a lost device tells the user: it is interrupted, resumable from its checkpoint. */
export const deviceLostMessage = (kept?: number) =>
  'The GPU was reset (device lost). ' +
  (kept
    ? `Resume continues from step ${kept}.`
    : 'No checkpoint was kept yet: Start again in the run history trains it again from step 0.');

/** How many times this worker lost its GPU device. */
export const deviceLosses = () => losses.length;

/** Fault tests: destroys the worker's GPU device as a GPU reset does; false without one. */
export async function loseDevice(): Promise<boolean> {
  const rt = await runtime?.catch(() => undefined);
  if (!rt?.loseDevice) return false;
  rt.loseDevice();
  await rt.lost;
  return true;
}

export function describe(info: DeviceInfo): DeviceReport {
  const isolated = typeof crossOriginIsolated !== 'undefined' && crossOriginIsolated;
  if (info.backend === 'webgpu') {
    const name = [info.vendor, info.architecture].filter(Boolean).join(' ') || info.description || 'GPU';
    return {
      ...info,
      crossOriginIsolated: isolated,
      summary: `WebGPU · ${name}${info.software ? ' (software)' : ''}${info.f16 ? ' · f16' : ''}`,
    };
  }
  return {
    ...info,
    fallbackReason: info.description,
    crossOriginIsolated: isolated,
    summary: `WebAssembly (CPU, ${info.threads ?? 1} thread${info.threads === 1 ? '' : 's'})`,
  };
}

export function setModel(m: ModelState | undefined) {
  const old = device;
  device = undefined;
  current = m;
  void old?.then((d) => d.dispose()).catch(() => undefined);
}

/** The current model on the runtime's device (uploaded at first use). */
export function getDeviceModel(): Promise<DeviceModel> {
  const m = getModel();
  if (!device) {
    // a 16-bit checkpoint keeps its decoder weights as float16 where the device can (half the memory, same
    // numbers): WASM always, WebGPU with shader-f16; float32 checkpoints stay float32
    const source16 = [...m.model.dtypes.values()].every((t) => t === 'BF16' || t === 'F16');
    const p = getRuntime().then((rt) =>
      DeviceModel.upload(rt, m.model, {
        storage: source16 && (rt.info.backend === 'wasm' || rt.info.f16) ? 'float16' : 'float32',
      }),
    );
    device = p;
    p.catch(() => {
      if (device === p) device = undefined;
    });
  }
  return device;
}

export function getModel(): ModelState {
  if (!current) throw new UserError('no model loaded: load one on the Model tab first');
  return current;
}

export const peekModel = () => current;

export const db = (): Promise<DB> => openStudioDB();
