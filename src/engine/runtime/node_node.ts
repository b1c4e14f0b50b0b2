// Node runtimes: 'cpu' = onnxruntime-node (the CLI's fast path), 'wasm' = onnxruntime-web's wasm EP,
// 'webgpu' = onnxruntime-web's native WebGPU EP on Dawn (npm `webgpu`): a real GPU through Vulkan where a
// driver is installed, else Chromium's SwiftShader (tests, CI). Follows DESIGN §1 "Running WebGPU where there
// is no GPU"; the Vulkan loader/ICD discovery below is what makes that work without root or extra packages.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { UserError } from '../errors';
import { SOFTWARE_ADAPTER } from './webgpu';
import { createOrtRuntime, type OrtModule } from './common';
import { openWebGpu, webgpuSessionOptions, type Gpu } from './webgpu';
import type { Runtime } from './types';

/** onnxruntime-node writes a profiled CPU session's events to `<tmpdir>/<this><pid>-<date>.json` (tools/profile.ts). */
export const CPU_PROFILE_PREFIX = 'lora-studio-ort-profile-';

export interface NodeRuntimeOptions {
  backend: 'cpu' | 'wasm' | 'webgpu';
  /** CPU threads (cpu: intra-op threads; wasm/webgpu: ORT-web's wasm threads, fixed by the first runtime). */
  threads?: number;
  /** webgpu: a node that would fall back to the CPU is an error (default false). */
  strict?: boolean;
}

export async function createNodeRuntime(opts: NodeRuntimeOptions): Promise<Runtime> {
  const threads = opts.threads ?? os.availableParallelism();
  if (opts.backend === 'cpu') {
    const ort = (await import('onnxruntime-node')) as unknown as OrtModule;
    return createOrtRuntime({
      ort,
      info: { backend: 'cpu', description: os.cpus()[0]?.model, software: false, f16: false, threads },
      sessionOptions: (o) => ({
        ...(o.profile && {
          profileFilePrefix: path.join(os.tmpdir(), `${CPU_PROFILE_PREFIX}${process.pid}-`),
        }),
        executionProviders: ['cpu'],
        intraOpNumThreads: threads,
        interOpNumThreads: 1,
        executionMode: 'sequential',
        // An arena keeps a session's memory at its peak between runs. By default none: a run's tensors go back
        // to the system when it ends, so the peaks of sessions run one after another (the layer-wise plan's)
        // do not add up. Sessions run back to back many times ask for `reuseMemory`: with an arena, memory
        // patterns off (with both, the pattern's one block is allocated beside the first run's chunks: twice
        // the activations).
        enableCpuMemArena: !!o.reuseMemory,
        enableMemPattern: !o.reuseMemory,
      }),
    });
  }
  if (opts.backend === 'wasm') {
    const ort = await ortWeb(threads);
    return createOrtRuntime({
      ort,
      info: { backend: 'wasm', software: false, f16: false, threads: ortWebThreads },
      sessionOptions: () => ({ executionProviders: ['wasm'] }),
    });
  }
  const gpu = await dawn();
  // With a single wasm thread in Node, the first WebGPU run stalls until V8 has finished optimising ORT's
  // 26 MB wasm in the background (~27 s measured here); two threads avoid it.
  const ort = await ortWeb(Math.max(2, threads));
  const wg = await openWebGpu(gpu);
  if (!wg) throw new UserError(`WebGPU: no adapter found (${vulkanNote || 'Dawn found no GPU'})`);
  ort.env.webgpu.adapter = wg.adapter as never;
  const device = wg.device;
  return createOrtRuntime({
    ort,
    info: { ...wg.info, threads: ortWebThreads },
    device,
    strict: opts.strict,
    sessionOptions: (o) => webgpuSessionOptions(device, o),
    onRelease: () => device.destroy(),
  });
}

// ---- onnxruntime-web (one wasm instance per process; its thread count is fixed at first use) ----
type OrtWeb = OrtModule & typeof import('onnxruntime-web/webgpu');
let ortWebModule: Promise<OrtWeb> | undefined;
let ortWebThreads = 0;

/**
 * Whether a hardware WebGPU adapter is present, without loading onnxruntime-web (for `--backend auto`):
 * no Vulkan driver on Linux means none; otherwise Dawn is asked for its adapter and software adapters
 * (SwiftShader, lavapipe) do not count.
 */
export async function hasHardwareGpu(): Promise<boolean> {
  const env = process.env;
  if (process.platform === 'linux' && !env.VK_ICD_FILENAMES && !env.VK_DRIVER_FILES && !ICD_DIRS.some(jsonIn))
    return false;
  try {
    const adapter = await (await dawn()).requestAdapter({ powerPreference: 'high-performance' });
    if (!adapter) return false;
    const ai = adapter.info ?? {};
    return (
      !SOFTWARE_ADAPTER.test([ai.vendor, ai.architecture, ai.description, ai.device].join(' ')) &&
      adapter.isFallbackAdapter !== true
    );
  } catch {
    return false;
  }
}

function ortWeb(threads: number): Promise<OrtWeb> {
  ortWebModule ??= import('onnxruntime-web/webgpu').then((ort) => {
    ort.env.wasm.numThreads = ortWebThreads = threads;
    // A file-system prefix: without it, threaded ORT-web in Node fetch()es a file:// URL and fails.
    const wasm = createRequire(import.meta.url).resolve(
      'onnxruntime-web/ort-wasm-simd-threaded.asyncify.wasm',
    );
    ort.env.wasm.wasmPaths = path.dirname(wasm) + path.sep;
    return ort as OrtWeb;
  });
  return ortWebModule;
}

// ---- Dawn ----
interface DawnModule {
  create(flags: string[]): Gpu;
  globals: Record<string, unknown>;
}
let dawnGpu: Promise<Gpu> | undefined;
/** Why the Vulkan setup is what it is (shown when no adapter is found). */
let vulkanNote = '';

function dawn(): Promise<Gpu> {
  dawnGpu ??= loadDawn().then(({ create, globals }) => {
    // ORT checks `device instanceof GPUDevice` and looks for navigator.gpu: expose Dawn's classes globally.
    Object.assign(globalThis, globals);
    patchWriteBuffer(globals.GPUQueue as { prototype: Record<string | symbol, unknown> });
    // DAWN_FLAGS: Dawn's own switches, e.g. "enable-dawn-features=allow_unsafe_apis" (space-separated)
    const gpu = create((process.env.DAWN_FLAGS ?? '').split(/\s+/).filter(Boolean));
    const g = globalThis as { navigator?: object };
    if (g.navigator) Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true });
    else
      Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
    return gpu;
  });
  return dawnGpu;
}

/** Dawn rejects writeBuffer from SharedArrayBuffer views, which ORT's threaded wasm heap produces: copy those. */
function patchWriteBuffer(GPUQueue: { prototype: Record<string | symbol, unknown> }) {
  const proto = GPUQueue.prototype;
  const mark = Symbol.for('lora-studio.writeBufferCopiesShared');
  if (proto[mark]) return;
  const original = proto.writeBuffer as (...args: unknown[]) => void;
  proto.writeBuffer = function (
    buffer: unknown,
    offset: number,
    data: unknown,
    dataOffset?: number,
    size?: number,
  ) {
    if (ArrayBuffer.isView(data) && data.buffer instanceof SharedArrayBuffer) {
      const el = 'BYTES_PER_ELEMENT' in data ? (data.BYTES_PER_ELEMENT as number) : 1;
      const start = data.byteOffset + (dataOffset ?? 0) * el;
      const bytes = size !== undefined ? size * el : data.byteLength - (dataOffset ?? 0) * el;
      return original.call(this, buffer, offset, new Uint8Array(data.buffer, start, bytes).slice());
    }
    if (data instanceof SharedArrayBuffer) {
      const start = dataOffset ?? 0;
      return original.call(
        this,
        buffer,
        offset,
        new Uint8Array(data, start, size ?? data.byteLength - start).slice(),
      );
    }
    return original.call(this, buffer, offset, data, dataOffset, size);
  };
  proto[mark] = true;
}

// ---- Vulkan discovery (Linux) ----
const ICD_DIRS = [
  '/etc/vulkan/icd.d',
  '/usr/share/vulkan/icd.d',
  '/usr/local/share/vulkan/icd.d',
  '/usr/local/etc/vulkan/icd.d',
];
const CHROMIUM_DIRS = [
  '/usr/lib/chromium',
  '/usr/lib64/chromium',
  '/usr/lib/chromium-browser',
  '/opt/google/chrome',
];
const VULKAN_LIB = 'libvulkan.so.1';

const exists = (p: string) => fs.existsSync(p);
const jsonIn = (dir: string) => {
  try {
    return fs.readdirSync(dir).some((f) => f.endsWith('.json'));
  } catch {
    return false;
  }
};

function hasVulkanLoader(): boolean {
  const triplet = { x64: 'x86_64-linux-gnu', arm64: 'aarch64-linux-gnu' }[process.arch as string] ?? '';
  const dirs = [
    ...(process.env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean),
    ...['/lib', '/usr/lib'].map((d) => `${d}/${triplet}`),
    ...['/lib64', '/usr/lib64', '/lib', '/usr/lib', '/usr/local/lib'],
  ];
  if (dirs.some((d) => exists(path.join(d, VULKAN_LIB)))) return true;
  try {
    return execFileSync('ldconfig', ['-p'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).includes(VULKAN_LIB);
  } catch {
    return false;
  }
}

/** Loads Dawn. On Linux without a Vulkan driver it points the loader at Chromium's SwiftShader ICD; without
 *  a system Vulkan loader it loads a copy of dawn.node placed beside Chromium's loader, because Dawn looks for
 *  libvulkan.so.1 in its own folder and LD_LIBRARY_PATH cannot change after the process started. */
async function loadDawn(): Promise<DawnModule> {
  if (process.platform !== 'linux') return (await import('webgpu')) as unknown as DawnModule;
  const chromium = CHROMIUM_DIRS.find((d) => exists(path.join(d, 'vk_swiftshader_icd.json')));
  const env = process.env;
  if (!env.VK_ICD_FILENAMES && !env.VK_DRIVER_FILES && !ICD_DIRS.some(jsonIn)) {
    if (!chromium) {
      vulkanNote = 'no Vulkan driver: install a GPU driver, mesa-vulkan-drivers, or chromium for SwiftShader';
      return (await import('webgpu')) as unknown as DawnModule;
    }
    env.VK_ICD_FILENAMES = path.join(chromium, 'vk_swiftshader_icd.json');
    vulkanNote = `software Vulkan: ${env.VK_ICD_FILENAMES}`;
  }
  if (hasVulkanLoader()) return (await import('webgpu')) as unknown as DawnModule;
  const loader = chromium ?? CHROMIUM_DIRS.find((d) => exists(path.join(d, VULKAN_LIB)));
  if (!loader || !exists(path.join(loader, VULKAN_LIB))) {
    vulkanNote = `no Vulkan loader (${VULKAN_LIB}): install libvulkan1`;
    return (await import('webgpu')) as unknown as DawnModule;
  }
  const require = createRequire(import.meta.url);
  const pkg = path.dirname(require.resolve('webgpu/package.json'));
  const original = path.join(pkg, 'dist', `linux-${process.arch}`, 'dawn.node');
  const st = fs.statSync(original);
  const dir = path.join(os.tmpdir(), `lora-studio-dawn-${st.size}-${Math.floor(st.mtimeMs)}`);
  fs.mkdirSync(dir, { recursive: true });
  const place = (name: string, make: (tmp: string) => void) => {
    const target = path.join(dir, name);
    if (exists(target)) return;
    const tmp = `${target}.${process.pid}.tmp`; // concurrent test workers: build aside, rename atomically
    fs.rmSync(tmp, { force: true });
    make(tmp);
    fs.renameSync(tmp, target);
  };
  place('dawn.node', (tmp) => {
    try {
      fs.linkSync(original, tmp);
    } catch {
      fs.copyFileSync(original, tmp);
    }
  });
  place(VULKAN_LIB, (tmp) => fs.symlinkSync(path.join(loader, VULKAN_LIB), tmp));
  vulkanNote += `; Vulkan loader from ${loader}`;
  return require(path.join(dir, 'dawn.node')) as DawnModule;
}
