// What the engine worker holds between calls: the runtime (it owns the WebGPU device, so base weights are
// uploaded once and shared by training and chat), the loaded model with its tokenizer and chat template,
// and the IndexedDB connection. Only ids and numbers leave the worker, never tensors. The model's weights
// stay in their files (OPFS, the picked files): the upload reads them tensor by tensor and keeps no host
// copy beside the device's; exports read them again.
import { UserError } from '../src/engine/errors';
import { DeviceModel } from '../src/engine/model/device';
import type { ModelReader } from '../src/engine/model/weights';
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
let current: ModelState | undefined;
/** The current model's weights on the device: uploaded once, shared by training and chat. */
let device: Promise<DeviceModel> | undefined;

/** The app's own /ort/ folder, where vite.config.ts puts onnxruntime-web's wasm runtime files. */
const wasmPaths = () => new URL(`${import.meta.env.BASE_URL}ort/`, self.location.origin).href;

export function openRuntime(prefer: BackendPreference): Promise<Runtime> {
  if (!runtime) {
    runtime = createWebRuntime({ prefer: prefer === 'wasm' ? 'wasm' : 'webgpu', wasmPaths: wasmPaths() });
    runtime.catch(() => (runtime = undefined));
  }
  return runtime;
}

export async function getRuntime(): Promise<Runtime> {
  return openRuntime('auto');
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
