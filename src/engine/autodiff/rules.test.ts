// Every gradient rule against central finite differences, in float64 on onnxruntime's CPU backend.
import { describe, expect, it } from 'vitest';
import { Graph, size, type Value } from '../graph/ir';
import * as o from '../graph/ops';
import { toOnnx } from '../graph/onnx';
import { backward } from './backward';
import { rules } from './rules';
import { evalGraph } from './testing_node';

type Case = {
  name: string;
  op: string;
  shapes: number[][];
  build: (xs: Value[]) => Value;
  positive?: boolean;
};

let seed = 12345;
const rand = () => {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed / 2147483648;
};
const randn = (n: number, positive = false) =>
  Float64Array.from({ length: n }, () => (positive ? 0.5 + rand() : rand() * 2 - 1));

const cases: Case[] = [
  { name: 'Add (broadcast)', op: 'Add', shapes: [[2, 3], [3]], build: ([a, b]) => o.add(a, b) },
  {
    name: 'Sub (broadcast)',
    op: 'Sub',
    shapes: [
      [2, 1],
      [2, 3],
    ],
    build: ([a, b]) => o.sub(a, b),
  },
  {
    name: 'Mul (broadcast)',
    op: 'Mul',
    shapes: [
      [2, 3],
      [1, 3],
    ],
    build: ([a, b]) => o.mul(a, b),
  },
  {
    name: 'Div',
    op: 'Div',
    shapes: [
      [2, 3],
      [2, 3],
    ],
    build: ([a, b]) => o.div(a, b),
    positive: true,
  },
  { name: 'Pow (both)', op: 'Pow', shapes: [[2, 3], [3]], build: ([a, b]) => o.pow(a, b), positive: true },
  { name: 'Neg', op: 'Neg', shapes: [[4]], build: ([a]) => o.neg(a) },
  { name: 'Exp', op: 'Exp', shapes: [[4]], build: ([a]) => o.exp(a) },
  { name: 'Log', op: 'Log', shapes: [[4]], build: ([a]) => o.log(a), positive: true },
  { name: 'Sqrt', op: 'Sqrt', shapes: [[4]], build: ([a]) => o.sqrt(a), positive: true },
  { name: 'Reciprocal', op: 'Reciprocal', shapes: [[4]], build: ([a]) => o.reciprocal(a), positive: true },
  { name: 'Sigmoid', op: 'Sigmoid', shapes: [[5]], build: ([a]) => o.sigmoid(a) },
  { name: 'Tanh', op: 'Tanh', shapes: [[5]], build: ([a]) => o.tanh(a) },
  { name: 'Identity', op: 'Identity', shapes: [[3]], build: ([a]) => o.identity(a) },
  {
    name: 'MatMul 2D',
    op: 'MatMul',
    shapes: [
      [3, 4],
      [4, 2],
    ],
    build: ([a, b]) => o.matmul(a, b),
  },
  {
    name: 'MatMul batched',
    op: 'MatMul',
    shapes: [
      [2, 3, 4],
      [2, 4, 5],
    ],
    build: ([a, b]) => o.matmul(a, b),
  },
  {
    name: 'MatMul batch × 2D',
    op: 'MatMul',
    shapes: [
      [2, 3, 4],
      [4, 5],
    ],
    build: ([a, b]) => o.matmul(a, b),
  },
  {
    name: 'MatMul broadcast batch',
    op: 'MatMul',
    shapes: [
      [2, 1, 3, 4],
      [3, 4, 2],
    ],
    build: ([a, b]) => o.matmul(a, b),
  },
  {
    name: 'Gemm transB + bias',
    op: 'Gemm',
    shapes: [[3, 4], [5, 4], [5]],
    build: ([a, b, c]) => o.gemm(a, b, c, true),
  },
  {
    name: 'Gemm',
    op: 'Gemm',
    shapes: [
      [3, 4],
      [4, 2],
    ],
    build: ([a, b]) => o.gemm(a, b, null, false),
  },
  { name: 'Softmax', op: 'Softmax', shapes: [[2, 5]], build: ([a]) => o.softmax(a, -1) },
  { name: 'Softmax axis 0', op: 'Softmax', shapes: [[3, 2]], build: ([a]) => o.softmax(a, 0) },
  { name: 'ReduceSum keep', op: 'ReduceSum', shapes: [[2, 3, 4]], build: ([a]) => o.reduceSum(a, [1]) },
  {
    name: 'ReduceSum drop',
    op: 'ReduceSum',
    shapes: [[2, 3, 4]],
    build: ([a]) => o.reduceSum(a, [0, 2], false),
  },
  { name: 'ReduceMean', op: 'ReduceMean', shapes: [[2, 3, 4]], build: ([a]) => o.reduceMean(a, [-1]) },
  {
    name: 'ReduceMean drop',
    op: 'ReduceMean',
    shapes: [[2, 3]],
    build: ([a]) => o.reduceMean(a, [0], false),
  },
  { name: 'ReduceMax', op: 'ReduceMax', shapes: [[3, 4]], build: ([a]) => o.reduceMax(a, [1]) },
  { name: 'Transpose', op: 'Transpose', shapes: [[2, 3, 4]], build: ([a]) => o.transpose(a, [2, 0, 1]) },
  { name: 'Reshape', op: 'Reshape', shapes: [[2, 6]], build: ([a]) => o.reshape(a, [3, 4]) },
  { name: 'Expand', op: 'Expand', shapes: [[3, 1]], build: ([a]) => o.expand(a, [2, 3, 4]) },
  {
    name: 'Concat',
    op: 'Concat',
    shapes: [
      [2, 3],
      [2, 2],
    ],
    build: ([a, b]) => o.concat([a, b], 1),
  },
  { name: 'Slice', op: 'Slice', shapes: [[3, 5]], build: ([a]) => o.slice(a, 1, 1, 3) },
  {
    name: 'Split',
    op: 'Split',
    shapes: [[4, 3]],
    build: ([a]) => {
      const [p, q] = o.split(a, 0, [1, 3]);
      return o.add(o.mul(p, 2), o.reduceSum(q, [0]));
    },
  },
  {
    name: 'Split (one output unused)',
    op: 'Split',
    shapes: [[4, 3]],
    build: ([a]) => o.split(a, 1, [2, 1])[1],
  },
  { name: 'Cast', op: 'Cast', shapes: [[3]], build: ([a]) => o.cast(o.mul(a, a), 'float64') },
  { name: 'Where', op: 'Where', shapes: [[2, 3], [3]], build: ([a, b]) => o.where(o.less(a, 0), a, b) },
  {
    name: 'Gather rows (repeated indices)',
    op: 'Gather',
    shapes: [[5, 3]],
    build: ([a]) => o.gather(a, a.graph.constant(Int32Array.from([4, 0, 4, 2]), 'int32', [2, 2], 'idx'), 0),
  },
  {
    name: 'GatherElements last axis',
    op: 'GatherElements',
    shapes: [[3, 6]],
    build: ([a]) =>
      o.gatherElements(a, a.graph.constant(Int32Array.from([5, 0, 2]), 'int32', [3, 1], 'idx'), 1),
  },
];

describe('gradient rules vs central finite differences (float64)', () => {
  it('covers every differentiable rule', () => {
    const covered = new Set(cases.map((c) => c.op));
    const missing = Object.keys(rules).filter(
      (k) => !covered.has(k) && !['Equal', 'Less', 'Greater'].includes(k),
    );
    expect(missing).toEqual([]);
  });

  for (const c of cases) {
    it(c.name, async () => {
      const g = new Graph(c.name);
      const xs = c.shapes.map((s, i) => g.input(`x${i}`, 'float64', s));
      const y = c.build(xs);
      const r = g.constant(randn(size(y.shape)), 'float64', y.shape, 'r');
      const loss = o.reduceSum(o.mul(y, r), [...y.shape.keys()], false);
      const grads = backward(loss, xs);
      g.output(loss, 'loss');
      grads.forEach((gr, i) => g.output(gr, `g${i}`));
      const bytes = toOnnx(g);
      const vals = c.shapes.map((s) => randn(size(s), c.positive));
      const feeds = (vs: Float64Array[]) =>
        Object.fromEntries(vs.map((v, i) => [`x${i}`, { data: v, dims: c.shapes[i] }]));
      const run = await evalGraph(bytes);
      const base = await run(feeds(vals));
      const h = 1e-6;
      for (let i = 0; i < vals.length; i++) {
        const analytic = base[`g${i}`] as Float64Array;
        for (let k = 0; k < vals[i].length; k++) {
          const plus = vals.map((v) => v.slice());
          const minus = vals.map((v) => v.slice());
          plus[i][k] += h;
          minus[i][k] -= h;
          const fp = (await run(feeds(plus))).loss[0] as number;
          const fm = (await run(feeds(minus))).loss[0] as number;
          const numeric = (fp - fm) / (2 * h);
          expect(analytic[k]).toBeCloseTo(numeric, 6);
        }
      }
    });
  }
});
