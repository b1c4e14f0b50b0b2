import { it } from 'vitest';
import { createNodeRuntime } from './node.node';
it('info', async () => {
  const t0 = performance.now();
  const gpu = await createNodeRuntime({ backend: 'webgpu', threads: 2, strict: true });
  console.log(gpu.info, performance.now() - t0, process.env.VK_ICD_FILENAMES);
  const q = (globalThis as any).GPUQueue.prototype;
  console.log(Object.getOwnPropertySymbols(q));
  await gpu.release();
}, 60000);
