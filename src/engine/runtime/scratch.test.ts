import { it } from 'vitest';
import { createRequire } from 'node:module';
import { createNodeRuntime } from './node.node';
import { Graph } from '../graph/ir';
import { toOnnx } from '../graph/onnx';
import * as op from '../graph/ops';
it('nopatch', async () => {
  const d = createRequire(import.meta.url)('/tmp/lora-studio-dawn-21526416-1795465836182/dawn.node');
  if (process.env.NOPATCH) d.globals.GPUQueue.prototype[Symbol.for('lora-studio.writeBufferCopiesShared')] = true;
  const gpu = await createNodeRuntime({ backend: 'webgpu', threads: Number(process.env.TH ?? 1), strict: true });
  const g = new Graph('m');
  const x = g.input('x', 'float32', [64, 64]);
  const w = g.constant(new Float32Array(64 * 64).fill(0.5), 'float32', [64, 64], 'w');
  g.output(op.matmul(x, w), 'y');
  const s = await gpu.createSession(toOnnx(g));
  const y = await s.run({ x: gpu.tensor('float32', new Float32Array(64 * 64).fill(1), [64, 64]) });
  console.log((await gpu.read(y.y))[0]);
  await gpu.release();
}, 60000);
