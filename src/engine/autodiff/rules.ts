// Gradient rules: one entry per op. A rule gets the node, its inputs/outputs and the incoming output
// gradients, and returns one gradient per input (null = none). Gradients may be in the broadcast
// (output) shape: backward.ts sums them to each input's shape, so no rule undoes broadcasting itself.
import { GraphError, type Node, type Value } from '../graph/ir';
import * as o from '../graph/ops';

export interface RuleCtx {
  node: Node;
  x: Value[];
  y: Value[];
  /** Gradient of each output (null where no gradient arrives). */
  dy: (Value | null)[];
  /** Whether each input needs a gradient. */
  needs: boolean[];
}
export type Rule = (c: RuleCtx) => (Value | null)[];

const d0 = (c: RuleCtx) => c.dy[0]!;
const attrInt = (n: Node, k: string) => n.attrs[k] as number;
const constInts = (v: Value | null): number[] => {
  if (!v?.data) throw new GraphError('gradient needs a constant axes/shape input');
  return Array.from(v.data as ArrayLike<number | bigint>, Number);
};
const lastTwoT = (v: Value) => {
  const r = v.shape.length;
  return o.transpose(v, [...Array(r - 2).keys(), r - 1, r - 2]);
};
/** zeros of a shape without a large constant: a scalar expanded (Expand runs on WebGPU). */
export const zeros = (like: Value, shape: readonly number[]) =>
  o.expand(like.graph.scalar(0, like.dtype), shape);
/** dy brought back to the input's rank with the reduced axes kept as 1 (for Reduce* with keepdims=0). */
function keepDims(c: RuleCtx, axes: number[]): Value {
  if (attrInt(c.node, 'keepdims') !== 0) return d0(c);
  return o.reshape(
    d0(c),
    c.x[0].shape.map((d, i) => (axes.includes(i) ? 1 : d)),
  );
}
const reduceAxes = (c: RuleCtx) =>
  c.node.op === 'ReduceSum' ? constInts(c.x[1] ?? null) : (c.node.attrs.axes as number[]);

function matmulGrad(c: RuleCtx): (Value | null)[] {
  const [a, b] = c.x;
  const dy = d0(c);
  let da: Value | null = null;
  let db: Value | null = null;
  if (c.needs[0]) {
    da = o.matmul(dy, lastTwoT(b));
  }
  if (c.needs[1]) {
    if (b.shape.length === 2 && a.shape.length > 2) {
      // fold the batch axes into the contraction instead of building a [..., k, n] batch and summing it
      const k = a.shape.at(-1)!;
      db = o.matmul(o.transpose(o.reshape(a, [-1, k]), [1, 0]), o.reshape(dy, [-1, dy.shape.at(-1)!]));
    } else {
      db = o.matmul(lastTwoT(a), dy);
    }
  }
  return [da, db];
}

export const rules = {
  Identity: (c) => [d0(c)],
  Add: (c) => [d0(c), d0(c)],
  Sub: (c) => [d0(c), c.needs[1] ? o.neg(d0(c)) : null],
  Mul: (c) => [c.needs[0] ? o.mul(d0(c), c.x[1]) : null, c.needs[1] ? o.mul(d0(c), c.x[0]) : null],
  Div: (c) => [
    c.needs[0] ? o.div(d0(c), c.x[1]) : null,
    c.needs[1] ? o.neg(o.div(o.mul(d0(c), c.y[0]), c.x[1])) : null,
  ],
  Pow: (c) => [
    c.needs[0] ? o.mul(d0(c), o.mul(c.x[1], o.pow(c.x[0], o.sub(c.x[1], 1)))) : null,
    c.needs[1] ? o.mul(d0(c), o.mul(c.y[0], o.log(c.x[0]))) : null,
  ],
  Neg: (c) => [o.neg(d0(c))],
  Exp: (c) => [o.mul(d0(c), c.y[0])],
  Log: (c) => [o.div(d0(c), c.x[0])],
  Sqrt: (c) => [o.div(d0(c), o.mul(c.y[0], 2))],
  Reciprocal: (c) => [o.neg(o.mul(d0(c), o.square(c.y[0])))],
  Sigmoid: (c) => [o.mul(d0(c), o.mul(c.y[0], o.sub(c.y[0].graph.scalar(1, c.y[0].dtype), c.y[0])))],
  Tanh: (c) => [o.mul(d0(c), o.sub(c.y[0].graph.scalar(1, c.y[0].dtype), o.square(c.y[0])))],
  Cast: (c) => [c.x[0].dtype.startsWith('float') ? o.cast(d0(c), c.x[0].dtype) : null],
  MatMul: matmulGrad,
  Gemm: (c) => {
    // y = a·op(b) + c with op(b) = bᵀ when transB
    const [a, b] = c.x;
    const transB = attrInt(c.node, 'transB') === 1;
    const dy = d0(c);
    const da = c.needs[0] ? (transB ? o.matmul(dy, b) : o.matmul(dy, o.transpose(b, [1, 0]))) : null;
    const dbT = c.needs[1] ? o.matmul(o.transpose(a, [1, 0]), dy) : null; // d op(b): [k, n]
    const db = dbT && transB ? o.transpose(dbT, [1, 0]) : dbT;
    return [da, db, c.x.length > 2 && c.needs[2] ? dy : null];
  },
  Softmax: (c) => {
    const y = c.y[0];
    const axis = attrInt(c.node, 'axis');
    return [o.mul(y, o.sub(d0(c), o.reduceSum(o.mul(d0(c), y), [axis])))];
  },
  ReduceSum: (c) => [o.expand(keepDims(c, reduceAxes(c)), c.x[0].shape)],
  ReduceMean: (c) => {
    const axes = reduceAxes(c);
    const n = axes.reduce((acc, a) => acc * c.x[0].shape[a], 1);
    return [o.expand(o.div(keepDims(c, axes), n), c.x[0].shape)];
  },
  ReduceMax: (c) => {
    // ties share the gradient equally
    const axes = reduceAxes(c);
    const yk =
      attrInt(c.node, 'keepdims') !== 0
        ? c.y[0]
        : o.reshape(
            c.y[0],
            c.x[0].shape.map((d, i) => (axes.includes(i) ? 1 : d)),
          );
    const mask = o.cast(o.equal(c.x[0], yk), c.x[0].dtype);
    return [o.mul(mask, o.div(keepDims(c, axes), o.reduceSum(mask, axes)))];
  },
  Transpose: (c) => {
    const perm = c.node.attrs.perm as number[];
    const inv = perm.map((_, i) => perm.indexOf(i));
    return [o.transpose(d0(c), inv)];
  },
  Reshape: (c) => [o.reshape(d0(c), c.x[0].shape), null],
  Expand: (c) => [d0(c), null],
  Concat: (c) => {
    const axis = attrInt(c.node, 'axis');
    let at = 0;
    return c.x.map((x, i) => {
      const start = at;
      at += x.shape[axis];
      return c.needs[i] ? o.slice(d0(c), axis, start, at) : null;
    });
  },
  Split: (c) => {
    const axis = attrInt(c.node, 'axis');
    const parts = c.y.map((y, i) => c.dy[i] ?? zeros(y, y.shape));
    return [o.concat(parts, axis), null];
  },
  Slice: (c) => {
    const [x] = c.x;
    const [start] = constInts(c.x[1]);
    const [axis] = constInts(c.x[3]);
    const end = start + c.y[0].shape[axis];
    const parts: Value[] = [];
    const padShape = (n: number) => x.shape.map((d, i) => (i === axis ? n : d));
    if (start > 0) parts.push(zeros(x, padShape(start)));
    parts.push(d0(c));
    if (end < x.shape[axis]) parts.push(zeros(x, padShape(x.shape[axis] - end)));
    return [parts.length === 1 ? parts[0] : o.concat(parts, axis), null, null, null, null];
  },
  Gather: (c) => {
    // rows of x picked by indices: scatter-add the gradient rows back (ScatterND, reduction add)
    const [x, idx] = c.x;
    if (attrInt(c.node, 'axis') !== 0) throw new GraphError('Gather gradient: axis 0 only');
    const rows = idx.shape.reduce((a, b) => a * b, 1);
    const inner = x.shape.slice(1);
    const flatIdx = o.cast(o.reshape(idx, [rows, 1]), 'int64'); // reshape before the cast: int64 Reshape runs on the CPU
    const upd = o.reshape(d0(c), [rows, ...inner]);
    const [dx] = x.graph.node('ScatterND', [zeros(x, x.shape), flatIdx, upd], { reduction: 'add' }, [
      { dtype: x.dtype, shape: x.shape },
    ]);
    return [dx, null];
  },
  GatherElements: (c) => {
    // picking one entry along the last axis: the gradient is a one-hot row times dy
    const [x, idx] = c.x;
    const axis = attrInt(c.node, 'axis');
    if (axis !== x.shape.length - 1 || idx.shape.at(-1) !== 1) {
      throw new GraphError('GatherElements gradient: one index along the last axis only');
    }
    const n = x.shape.at(-1)!;
    const iota = x.graph.constant(
      Float32Array.from({ length: n }, (_, i) => i),
      'float32',
      [n],
      'iota',
    );
    const hot = o.cast(o.equal(o.cast(idx, 'float32'), iota), x.dtype);
    return [o.mul(hot, d0(c)), null];
  },
  Where: (c) => {
    const [cond, a] = c.x;
    const z = a.graph.scalar(0, a.dtype);
    return [null, c.needs[1] ? o.where(cond, d0(c), z) : null, c.needs[2] ? o.where(cond, z, d0(c)) : null];
  },
  Equal: () => [null, null],
  Less: () => [null, null],
  Greater: () => [null, null],
} satisfies Record<string, Rule>;

export type DiffOp = keyof typeof rules;
