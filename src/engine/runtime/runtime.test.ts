// Runtime parity: the same graphs on onnxruntime-node CPU, onnxruntime-web wasm and onnxruntime-web WebGPU
// (Dawn; SwiftShader where there is no GPU), GPU-resident state fed back across runs, dispose, and that strict
// mode turns a CPU fallback into an error (DESIGN §1). One WebGPU runtime for the whole file: first-run
// shader compilation on software WebGPU takes tens of seconds.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Graph } from '../graph/ir';
import { toOnnx } from '../graph/onnx';
import * as op from '../graph/ops';
import { createNodeRuntime } from './node_node';
import type { Runtime, TensorData } from './types';

const GPU_TIMEOUT = 120_000;

function rand(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  });
}

/** Most ops the training graphs use, in one small graph. */
function mixedModel(): Uint8Array {
  const g = new Graph('mixed');
  const x = g.input('x', 'float32', [4, 6]);
  const w = g.input('w', 'float32', [6, 5]);
  const idx = g.input('idx', 'int32', [3]);
  const idx2 = g.input('idx2', 'int32', [4, 2]);
  const b = g.constant(rand(5, 9), 'float32', [5], 'b');
  const h = op.add(op.matmul(x, w), b); // (4, 5)
  const p = op.softmax(h, -1); // (4, 5)
  const r = op.reduceSum(p, [1]); // (4, 1)
  const rows = op.gather(h, idx, 0); // (3, 5)
  const picked = op.gatherElements(h, idx2, 1); // (4, 2)
  const leaky = op.where(op.greater(h, 0), h, op.mul(h, 0.1)); // (4, 5)
  const t = op.reshape(op.transpose(leaky, [1, 0]), [2, 10]); // (2, 10)
  const cat = op.concat([t, op.mul(t, 2)], 0); // (4, 10)
  const mixed = op.add(op.slice(cat, 1, 2, 7), op.expand(r, [4, 5])); // (4, 5)
  g.output(p, 'p');
  g.output(r, 'r');
  g.output(rows, 'rows');
  g.output(picked, 'picked');
  g.output(mixed, 'mixed');
  return toOnnx(g);
}

/** s_new = s·0.5 + x: the shape of an optimizer-state update. */
function stateModel(n: number): Uint8Array {
  const g = new Graph('state');
  const s = g.input('s', 'float32', [n]);
  const x = g.input('x', 'float32', [n]);
  g.output(op.add(op.mul(s, 0.5), x), 's_new');
  return toOnnx(g);
}

/** LogSoftmax has no WebGPU kernel in onnxruntime-web 1.30: it falls back to the CPU. */
function logSoftmaxModel(): Uint8Array {
  const g = new Graph('logsoftmax');
  const x = g.input('x', 'float32', [2, 3]);
  g.output(g.node('LogSoftmax', [x], { axis: 1 }, [{ dtype: 'float32', shape: [2, 3] }])[0], 'y');
  return toOnnx(g);
}

function expectClose(got: TensorData, want: TensorData, tol = 1e-5) {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const a = Number(got[i]);
    const b = Number(want[i]);
    if (!(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)))) {
      throw new Error(`element ${i}: got ${a}, want ${b}`);
    }
  }
}

async function runMixed(rt: Runtime): Promise<Record<string, TensorData>> {
  const s = await rt.createSession(mixedModel());
  const out = await s.run({
    x: rt.tensor('float32', rand(24, 1), [4, 6]),
    w: await rt.upload('float32', rand(30, 2), [6, 5]),
    idx: rt.tensor('int32', Int32Array.from([3, 0, 3]), [3]),
    idx2: rt.tensor('int32', Int32Array.from([4, 0, 1, 1, 2, 3, 0, 4]), [4, 2]),
  });
  const res: Record<string, TensorData> = {};
  for (const [k, t] of Object.entries(out)) {
    expect(t.location).toBe('cpu');
    res[k] = await rt.read(t);
  }
  await s.release();
  return res;
}

describe('runtime', () => {
  let cpu: Runtime;
  let wasm: Runtime;
  let gpu: Runtime;
  let reference: Record<string, TensorData>;

  beforeAll(async () => {
    cpu = await createNodeRuntime({ backend: 'cpu', threads: 1 });
    wasm = await createNodeRuntime({ backend: 'wasm', threads: 2 });
    gpu = await createNodeRuntime({ backend: 'webgpu', threads: 2, strict: true });
    reference = await runMixed(cpu);
  }, GPU_TIMEOUT);

  afterAll(async () => {
    await Promise.all([cpu?.release(), wasm?.release(), gpu?.release()]);
  });

  it('reports the device', () => {
    expect(cpu.info).toMatchObject({ backend: 'cpu', f16: false, threads: 1 });
    expect(wasm.info.backend).toBe('wasm');
    expect(gpu.info.backend).toBe('webgpu');
    expect(gpu.info.maxStorageBufferBindingSize).toBeGreaterThanOrEqual(128 * 2 ** 20);
    if (/swiftshader/i.test(`${gpu.info.architecture} ${gpu.info.description}`)) {
      expect(gpu.info).toMatchObject({ software: true, f16: false });
    }
  });

  it('cpu output matches a plain JS evaluation', () => {
    const [x, w, b] = [rand(24, 1), rand(30, 2), rand(5, 9)];
    const h = Array.from({ length: 4 }, (_, i) =>
      Array.from(
        { length: 5 },
        (_, j) => b[j] + [0, 1, 2, 3, 4, 5].reduce((a, k) => a + x[i * 6 + k] * w[k * 5 + j], 0),
      ),
    );
    const p = h.flatMap((row) => {
      const e = row.map((v) => Math.exp(v - Math.max(...row)));
      return e.map((v) => v / e.reduce((a, c) => a + c, 0));
    });
    const leakyT = [0, 1, 2, 3, 4].flatMap((j) => h.map((row) => (row[j] > 0 ? row[j] : 0.1 * row[j]))); // (5, 4) flat
    const cat = [0, 1, 2, 3].map((i) =>
      leakyT.slice((i % 2) * 10, (i % 2) * 10 + 10).map((v) => (i < 2 ? v : 2 * v)),
    );
    expectClose(reference.p, Float32Array.from(p));
    expectClose(reference.r, new Float32Array(4).fill(1));
    expectClose(reference.rows, Float32Array.from([...h[3], ...h[0], ...h[3]]));
    expectClose(
      reference.picked,
      Float32Array.from([h[0][4], h[0][0], h[1][1], h[1][1], h[2][2], h[2][3], h[3][0], h[3][4]]),
    );
    expectClose(
      reference.mixed,
      Float32Array.from(cat.flatMap((row) => row.slice(2, 7).map((v) => v + 1))),
      1e-5,
    );
  });

  it('wasm matches cpu', async () => {
    const got = await runMixed(wasm);
    for (const k of Object.keys(reference)) expectClose(got[k], reference[k]);
  });

  it(
    'webgpu (strict) matches cpu',
    async () => {
      const got = await runMixed(gpu);
      for (const k of Object.keys(reference)) expectClose(got[k], reference[k]);
    },
    GPU_TIMEOUT,
  );

  it(
    'keeps state on the GPU across runs, reads without moving it, disposes',
    async () => {
      const n = 8;
      const s0 = rand(n, 3);
      const x = rand(n, 4);
      const want = Float32Array.from(s0, (v, i) => ((v * 0.5 + x[i]) * 0.5 + x[i]) * 0.5 + x[i]);
      const step = async (rt: Runtime) => {
        const sess = await rt.createSession(stateModel(n), { keepOnDevice: ['s_new'] });
        const xt = await rt.upload('float32', x, [n]);
        let s = await rt.upload('float32', s0, [n]);
        for (let i = 0; i < 3; i++) {
          const pending = sess.run({ s, x: xt });
          rt.dispose(s); // freed only after the run queued before it
          const out = await pending;
          expect(out.s_new.location).toBe(rt.info.backend === 'webgpu' ? 'gpu' : 'cpu');
          s = out.s_new;
        }
        const first = await rt.read(s);
        expect(s.location).toBe(rt.info.backend === 'webgpu' ? 'gpu' : 'cpu');
        expectClose(await rt.read(s), first, 0); // a second read sees the same buffer
        // The last state is still a valid input; a disposed one is refused.
        const again = await sess.run({ s, x: xt });
        rt.dispose(again.s_new);
        const old = await rt.upload('float32', s0, [n]);
        rt.dispose(old);
        await expect(sess.run({ s: old, x: xt })).rejects.toThrow(/disposed/);
        await expect(rt.read(old)).rejects.toThrow(/disposed/);
        rt.dispose(s);
        rt.dispose(xt);
        await sess.release();
        return first;
      };
      const onCpu = await step(cpu);
      expectClose(onCpu, want);
      expectClose(await step(gpu), onCpu);
    },
    GPU_TIMEOUT,
  );

  it(
    'graph capture: fresh inputs each run (captureSlots), outputs independent of the next run',
    async () => {
      const n = 8;
      const g = new Graph('captured');
      const s = g.input('s', 'float32', [n]);
      const x = g.input('x', 'float32', [n]);
      const next = op.add(op.mul(s, 0.5), x);
      g.output(next, 's_new');
      g.output(op.reduceSum(next, [0], false), 'total');
      const sess = await gpu.createSession(toOnnx(g), {
        keepOnDevice: ['s_new'],
        graphCapture: true,
        captureSlots: ['s', 'x'],
      });
      const s0 = await gpu.upload('float32', new Float32Array(n), [n]);
      let st = s0;
      const seen: number[] = [];
      const outs = [s0];
      for (let i = 0; i < 4; i++) {
        // x alternates between a GPU tensor and a host tensor: both must reach the captured graph.
        const xv = new Float32Array(n).fill(i + 1);
        const xt = i % 2 ? gpu.tensor('float32', xv, [n]) : await gpu.upload('float32', xv, [n]);
        const out = await sess.run({ s: st, x: xt });
        gpu.dispose(xt);
        expect(out.total.location).toBe('cpu');
        seen.push(Number((await gpu.read(out.s_new))[0]), Number((await gpu.read(out.total))[0]));
        outs.push(out.s_new);
        st = out.s_new;
      }
      // s: 0 → 1 → 2.5 → 4.25 → 6.125; every returned state kept its own value.
      expect(seen).toEqual([1, 8, 2.5, 20, 4.25, 34, 6.125, 49]);
      expect((await gpu.read(outs[1]))[0]).toBe(1);
      for (const t of outs) gpu.dispose(t);
      await sess.release();
      // without captureSlots a GPU input is bound as it is: another buffer on a later run is refused
      const bound = await gpu.createSession(toOnnx(g), { keepOnDevice: ['s_new'], graphCapture: true });
      const [a, b] = [
        await gpu.upload('float32', new Float32Array(n), [n]),
        await gpu.upload('float32', new Float32Array(n), [n]),
      ];
      const first = await bound.run({ s: a, x: gpu.tensor('float32', new Float32Array(n).fill(1), [n]) });
      expect((await gpu.read(first.s_new))[0]).toBe(1);
      await expect(bound.run({ s: b, x: gpu.tensor('float32', new Float32Array(n), [n]) })).rejects.toThrow(
        /not the GPU buffer the graph was captured with/,
      );
      for (const t of [a, b, first.s_new]) gpu.dispose(t);
      await bound.release();
    },
    GPU_TIMEOUT,
  );

  it(
    'strict mode refuses a CPU fallback; non-strict runs it',
    async () => {
      const model = logSoftmaxModel();
      const x = Float32Array.from([1, 2, 3, -1, 0, 4]);
      const strictRun = async () => {
        const s = await gpu.createSession(model);
        await s.run({ x: gpu.tensor('float32', x, [2, 3]) });
      };
      await expect(strictRun()).rejects.toThrow(/fallback|CPU/i);
      const loose = await gpu.createSession(model, { strict: false });
      const y = await gpu.read((await loose.run({ x: gpu.tensor('float32', x, [2, 3]) })).y);
      const want = [0, 1].flatMap((r) => {
        const row = Array.from(x.slice(r * 3, r * 3 + 3));
        const lse = Math.log(row.reduce((a, v) => a + Math.exp(v), 0));
        return row.map((v) => v - lse);
      });
      expectClose(y, Float32Array.from(want));
      await loose.release();
    },
    GPU_TIMEOUT,
  );

  it('rejects unknown keepOnDevice names and released runtimes', async () => {
    await expect(cpu.createSession(stateModel(2), { keepOnDevice: ['nope'] })).rejects.toThrow(/nope/);
    const rt = await createNodeRuntime({ backend: 'cpu', threads: 1 });
    await rt.release();
    expect(() => rt.tensor('float32', new Float32Array(1), [1])).toThrow(/released/);
  });
});
