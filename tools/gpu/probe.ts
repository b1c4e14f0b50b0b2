// The GPU runner's first stage: which WebGPU adapter Dawn finds (through Vulkan), its features (shader-f16?)
// and limits, and the device this engine would run on. Prints one JSON line; exits non-zero without an adapter.
import { createNodeRuntime } from '../../src/engine/runtime/node_node';

const out: Record<string, unknown> = {
  env: {
    VK_ICD_FILENAMES: process.env.VK_ICD_FILENAMES ?? null,
    LD_LIBRARY_PATH: process.env.LD_LIBRARY_PATH ?? null,
  },
};
try {
  const rt = await createNodeRuntime({ backend: 'webgpu' });
  out.runtime = rt.info;
  const nav = (globalThis as { navigator?: { gpu?: GpuLike } }).navigator;
  const adapter = await nav?.gpu?.requestAdapter({ powerPreference: 'high-performance' });
  if (adapter) {
    out.info = Object.fromEntries(
      ['vendor', 'architecture', 'device', 'description'].map((k) => [k, adapter.info?.[k] ?? null]),
    );
    out.features = [...adapter.features].sort();
    const limits: Record<string, number> = {};
    for (const k in adapter.limits) limits[k] = (adapter.limits as Record<string, number>)[k];
    out.limits = limits;
    out.isFallbackAdapter = adapter.isFallbackAdapter ?? null;
  }
  await rt.release();
  out.ok = true;
} catch (e) {
  out.ok = false;
  out.error = (e as Error).message;
}
console.log(JSON.stringify(out));
process.exit(out.ok ? 0 : 1);

interface GpuLike {
  requestAdapter(o: object): Promise<{
    info?: Record<string, string>;
    features: Iterable<string>;
    limits: object;
    isFallbackAdapter?: boolean;
  } | null>;
}
