// The gradient norm the step reports (and clips with) is float64's to float32 rounding even over millions of
// entries: one float32 reduction over Qwen2.5-0.5B's 8.8M LoRA gradients was 1.8e-3 low.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Graph } from '../graph/ir';
import { toOnnx } from '../graph/onnx';
import { createNodeRuntime } from '../runtime/node_node';
import type { Runtime } from '../runtime/types';
import { mulberry32 } from '../testing/random';
import { sumSquares } from './step';

let rt: Runtime;
beforeAll(async () => {
  rt = await createNodeRuntime({ backend: 'cpu', threads: 2 });
});
afterAll(async () => rt?.release());

it('sums the squares of 8.8M entries to 1e-6 of float64', async () => {
  const n = 8_798_208 + 5; // not a multiple of the block
  const g = new Graph('sum_squares');
  const x = g.input('x', 'float32', [n]);
  g.output(sumSquares(x), 's');
  const session = await rt.createSession(toOnnx(g));
  const rand = mulberry32(3);
  const data = new Float32Array(n);
  let exact = 0;
  for (let i = 0; i < n; i++) {
    data[i] = (rand() * 2 - 1) * 1e-3;
    exact += data[i] * data[i];
  }
  const out = await session.run({ x: rt.tensor('float32', data, [n]) });
  const s = ((await rt.read(out.s)) as Float32Array)[0];
  expect(Math.abs(s - exact) / exact).toBeLessThan(1e-6);
  await session.release();
});
