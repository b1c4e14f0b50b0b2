// GPU counters on a real WebGPU device (Dawn; SwiftShader where there is no GPU): uploading and disposing a
// tensor moves the live bytes and the peak, a session run records compute dispatches, releasing the runtime
// frees everything that was left.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Graph } from '../graph/ir';
import { toOnnx } from '../graph/onnx';
import * as op from '../graph/ops';
import { dispatches, gpuMemory, liveBuffers, resetPeak } from './gpu-counters';
import { createNodeRuntime } from './node_node';
import type { Runtime } from './types';

const MiB = 2 ** 20;
let rt: Runtime;

beforeAll(async () => {
  rt = await createNodeRuntime({ backend: 'webgpu', strict: true });
}, 60_000);
afterAll(async () => {
  await rt?.release();
});

describe('GPU counters', () => {
  it('count the bytes of tensors on the device and their peak', async () => {
    const before = gpuMemory().live;
    const t = await rt.upload('float32', new Float32Array(MiB / 4), [MiB / 4]);
    expect(gpuMemory().live - before).toBe(MiB);
    const u = await rt.upload('float32', new Float32Array(MiB / 2), [MiB / 2]);
    expect(gpuMemory().live - before).toBe(3 * MiB);
    rt.dispose(u);
    rt.dispose(t);
    await rt.read(await rt.upload('int32', new Int32Array(1), [1])); // queued after the disposals
    expect(gpuMemory().live).toBeLessThanOrEqual(before + 4);
    expect(gpuMemory().peak).toBeGreaterThanOrEqual(before + 3 * MiB);
    resetPeak();
    expect(gpuMemory().peak).toBe(gpuMemory().live);
  });

  it('count the compute dispatches of a run', async () => {
    const g = new Graph('counted');
    const x = g.input('x', 'float32', [64]);
    g.output(op.add(op.mul(x, 0.5), x), 'y');
    const s = await rt.createSession(toOnnx(g));
    const x0 = rt.tensor('float32', new Float32Array(64).fill(2), [64]);
    await s.run({ x: x0 }); // first run: shaders compiled
    const d0 = dispatches();
    const y = await s.run({ x: x0 });
    const perRun = dispatches() - d0;
    expect((await rt.read(y.y))[0]).toBe(3);
    expect(perRun).toBeGreaterThanOrEqual(1); // Mul and Add: one or two kernels
    expect(perRun).toBeLessThanOrEqual(4);
    await s.release();
    expect(liveBuffers()).toBeGreaterThanOrEqual(0);
  }, 120_000);
});
