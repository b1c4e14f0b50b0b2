// Browser / worker runtime: onnxruntime-web's native WebGPU EP (`onnxruntime-web/webgpu`) when navigator.gpu
// yields an adapter, else its wasm EP from the same build. Everything but feature detection lives in
// common.ts and webgpu.ts, which the Node tests exercise over Dawn. Served files: README.md here; facts: DESIGN §1.
import * as ort from 'onnxruntime-web/webgpu';
import { createOrtRuntime, type OrtModule } from './common';
import { openWebGpu, webgpuSessionOptions, type Gpu } from './webgpu';
import type { Runtime } from './types';

export interface WebRuntimeOptions {
  /** 'webgpu' (default) falls back to 'wasm' when WebGPU is missing or no adapter is granted. */
  prefer?: 'webgpu' | 'wasm';
  /** URL prefix (ending in '/') serving ort-wasm-simd-threaded.asyncify.{mjs,wasm}. */
  wasmPaths?: string;
  /** wasm threads; needs cross-origin isolation (COOP/COEP), else 1. Fixed by the first runtime created. */
  threads?: number;
  /** webgpu: a node that would fall back to the CPU is an error (default false). */
  strict?: boolean;
}

export async function createWebRuntime(opts: WebRuntimeOptions = {}): Promise<Runtime> {
  const isolated = typeof crossOriginIsolated !== 'undefined' && crossOriginIsolated;
  const threads = isolated ? (opts.threads ?? Math.min(4, navigator.hardwareConcurrency || 1)) : 1;
  ort.env.wasm.numThreads = threads;
  if (opts.wasmPaths) ort.env.wasm.wasmPaths = opts.wasmPaths;
  const module = ort as unknown as OrtModule;

  let why = 'WebGPU not requested';
  if ((opts.prefer ?? 'webgpu') === 'webgpu') {
    const gpu = (navigator as { gpu?: unknown }).gpu as Gpu | undefined;
    let wg: Awaited<ReturnType<typeof openWebGpu>> = null;
    why = 'this browser has no WebGPU (navigator.gpu)';
    if (gpu) {
      try {
        wg = await openWebGpu(gpu);
        why = 'WebGPU: no adapter granted';
      } catch (e) {
        why = `WebGPU: ${e instanceof Error ? e.message : String(e)}`;
      }
    }
    if (wg) {
      ort.env.webgpu.adapter = wg.adapter as never;
      return createOrtRuntime({
        ort: module,
        info: { ...wg.info, threads },
        device: wg.device,
        strict: opts.strict,
        sessionOptions: (o) => webgpuSessionOptions(wg.device, o),
        onRelease: () => wg.device.destroy(),
      });
    }
  }
  return createOrtRuntime({
    ort: module,
    info: { backend: 'wasm', description: why, software: false, f16: false, threads },
    sessionOptions: () => ({ executionProviders: ['wasm'] }),
  });
}
