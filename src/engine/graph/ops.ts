// Op builders with shape and dtype inference (ONNX opset 17 semantics). Each builder appends one node
// to its input's graph. Only ops that run on onnxruntime-web's WebGPU EP are offered (DESIGN §1).
import { check, shapeStr, size, typedOf, type Attrs, type DType, type Shape, type Value } from './ir';

const g = (x: Value) => x.graph;
const one = (
  x: Value,
  op: string,
  ins: (Value | null)[],
  attrs: Attrs,
  dtype: DType,
  shape: Shape,
  domain = '',
) => g(x).node(op, ins, attrs, [{ dtype, shape }], domain)[0];
const norm = (axis: number, rank: number) => {
  const a = axis < 0 ? axis + rank : axis;
  check(a >= 0 && a < Math.max(rank, 1), `axis ${axis} out of range for rank ${rank}`);
  return a;
};
export const int64 = (x: Value, xs: readonly number[]) =>
  g(x).constant(typedOf('int64', xs), 'int64', [xs.length], 'i64');

export function broadcastShapes(a: Shape, b: Shape): number[] {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    check(da === db || da === 1 || db === 1, () => `cannot broadcast ${shapeStr(a)} with ${shapeStr(b)}`);
    out.push(da === 1 ? db : da);
  }
  return out;
}

function binary(op: string, a: Value, b: Value, outDtype?: DType): Value {
  check(a.dtype === b.dtype, () => `${op}: dtype ${a.dtype} vs ${b.dtype}`);
  return one(a, op, [a, b], {}, outDtype ?? a.dtype, broadcastShapes(a.shape, b.shape));
}
const lift = (a: Value, b: Value | number) => (typeof b === 'number' ? g(a).scalar(b, a.dtype) : b);

export const add = (a: Value, b: Value | number) => binary('Add', a, lift(a, b));
export const sub = (a: Value, b: Value | number) => binary('Sub', a, lift(a, b));
export const mul = (a: Value, b: Value | number) => binary('Mul', a, lift(a, b));
export const div = (a: Value, b: Value | number) => binary('Div', a, lift(a, b));
export const pow = (a: Value, b: Value | number) => binary('Pow', a, lift(a, b));
export const equal = (a: Value, b: Value | number) => binary('Equal', a, lift(a, b), 'bool');
export const less = (a: Value, b: Value | number) => binary('Less', a, lift(a, b), 'bool');
export const greater = (a: Value, b: Value | number) => binary('Greater', a, lift(a, b), 'bool');

export function where(cond: Value, a: Value, b: Value): Value {
  check(cond.dtype === 'bool' && a.dtype === b.dtype, 'Where: bool condition and equal branch dtypes');
  return one(
    a,
    'Where',
    [cond, a, b],
    {},
    a.dtype,
    broadcastShapes(cond.shape, broadcastShapes(a.shape, b.shape)),
  );
}

const unary = (op: string) => (x: Value) => one(x, op, [x], {}, x.dtype, x.shape);
export const neg = unary('Neg');
export const exp = unary('Exp');
export const log = unary('Log');
export const sqrt = unary('Sqrt');
export const reciprocal = unary('Reciprocal');
export const sigmoid = unary('Sigmoid');
export const tanh = unary('Tanh');
export const identity = unary('Identity');

/** Identity through which no gradient flows. */
export const stopGradient = (x: Value) =>
  g(x).node('Identity', [x], {}, [{ dtype: x.dtype, shape: x.shape, noGrad: true }])[0];

export const cast = (x: Value, to: DType) =>
  x.dtype === to ? x : one(x, 'Cast', [x], { to: onnxDtype(to) }, to, x.shape);

export function onnxDtype(d: DType): number {
  return { float32: 1, int32: 6, int64: 7, bool: 9, float16: 10, float64: 11 }[d];
}

/** numpy-style batched matmul. */
export function matmul(a: Value, b: Value): Value {
  check(a.dtype === b.dtype, () => `MatMul: dtype ${a.dtype} vs ${b.dtype}`);
  check(a.shape.length >= 2 && b.shape.length >= 2, 'MatMul: operands of rank >= 2 only');
  const [m, k] = a.shape.slice(-2);
  const [k2, n] = b.shape.slice(-2);
  check(k === k2, () => `MatMul: ${shapeStr(a.shape)} @ ${shapeStr(b.shape)}`);
  const batch = broadcastShapes(a.shape.slice(0, -2), b.shape.slice(0, -2));
  return one(a, 'MatMul', [a, b], {}, a.dtype, [...batch, m, n]);
}

/** Gemm for 2D operands: a @ (transB ? bᵀ : b) (+ c). Base projections use it on HF [out, in] weights. */
export function gemm(a: Value, b: Value, c: Value | null, transB: boolean): Value {
  check(a.shape.length === 2 && b.shape.length === 2, 'Gemm: 2D operands only');
  const [m, k] = a.shape;
  const [n, k2] = transB ? b.shape : [b.shape[1], b.shape[0]];
  check(k === k2, () => `Gemm: ${shapeStr(a.shape)} @ ${shapeStr(b.shape)}${transB ? 'ᵀ' : ''}`);
  if (c) broadcastShapes(c.shape, [m, n]);
  return one(a, 'Gemm', c ? [a, b, c] : [a, b], { transB: transB ? 1 : 0 }, a.dtype, [m, n]);
}

export function softmax(x: Value, axis = -1): Value {
  return one(x, 'Softmax', [x], { axis: norm(axis, x.shape.length) }, x.dtype, x.shape);
}

function reducedShape(x: Value, axes: number[], keepdims: boolean): number[] {
  return x.shape.flatMap((d, i) => (axes.includes(i) ? (keepdims ? [1] : []) : [d]));
}
const normAxes = (x: Value, axes: readonly number[]) =>
  [...new Set(axes.map((a) => norm(a, x.shape.length)))].sort((a, b) => a - b);

export function reduceSum(x: Value, axes: readonly number[], keepdims = true): Value {
  const ax = normAxes(x, axes);
  if (ax.length === 0) return x;
  return one(
    x,
    'ReduceSum',
    [x, int64(x, ax)],
    { keepdims: keepdims ? 1 : 0 },
    x.dtype,
    reducedShape(x, ax, keepdims),
  );
}
export function reduceMean(x: Value, axes: readonly number[], keepdims = true): Value {
  const ax = normAxes(x, axes);
  return one(
    x,
    'ReduceMean',
    [x],
    { axes: ax, keepdims: keepdims ? 1 : 0 },
    x.dtype,
    reducedShape(x, ax, keepdims),
  );
}
export function reduceMax(x: Value, axes: readonly number[], keepdims = true): Value {
  const ax = normAxes(x, axes);
  return one(
    x,
    'ReduceMax',
    [x],
    { axes: ax, keepdims: keepdims ? 1 : 0 },
    x.dtype,
    reducedShape(x, ax, keepdims),
  );
}

export function transpose(x: Value, perm: readonly number[]): Value {
  check(
    perm.length === x.shape.length && [...perm].sort((a, b) => a - b).every((p, i) => p === i),
    `Transpose: bad perm ${perm}`,
  );
  return one(
    x,
    'Transpose',
    [x],
    { perm: [...perm] },
    x.dtype,
    perm.map((p) => x.shape[p]),
  );
}

/** Reshape to a fully concrete shape (one -1 allowed). */
export function reshape(x: Value, shape: readonly number[]): Value {
  const known = shape.filter((d) => d !== -1);
  const out = [...shape];
  const inferred = shape.indexOf(-1);
  if (inferred >= 0) out[inferred] = size(x.shape) / size(known);
  check(
    size(out) === size(x.shape) && out.every(Number.isInteger),
    () => `Reshape ${shapeStr(x.shape)} → ${shapeStr(shape)}`,
  );
  if (out.length === x.shape.length && out.every((d, i) => d === x.shape[i])) return x;
  return one(x, 'Reshape', [x, int64(x, out)], {}, x.dtype, out);
}

export function unsqueeze(x: Value, axes: readonly number[]): Value {
  const rank = x.shape.length + axes.length;
  const ax = axes.map((a) => norm(a, rank));
  const out: number[] = [];
  for (let i = 0, j = 0; i < rank; i++) out.push(ax.includes(i) ? 1 : x.shape[j++]);
  return reshape(x, out);
}

export function concat(xs: readonly Value[], axis: number): Value {
  const a = norm(axis, xs[0].shape.length);
  const out = [...xs[0].shape];
  out[a] = 0;
  for (const x of xs) {
    check(
      x.shape.length === out.length && x.shape.every((d, i) => i === a || d === out[i]),
      'Concat: shape mismatch',
    );
    out[a] += x.shape[a];
  }
  return one(xs[0], 'Concat', [...xs], { axis: a }, xs[0].dtype, out);
}

/** Slice [start, end) along one axis with step 1. */
export function slice(x: Value, axis: number, start: number, end: number): Value {
  const a = norm(axis, x.shape.length);
  const d = x.shape[a];
  const s = Math.max(0, Math.min(d, start < 0 ? start + d : start));
  const e = Math.max(s, Math.min(d, end < 0 ? end + d : end));
  if (s === 0 && e === d) return x;
  const out = [...x.shape];
  out[a] = e - s;
  return one(x, 'Slice', [x, int64(x, [s]), int64(x, [e]), int64(x, [a])], {}, x.dtype, out);
}

/** Splits along one axis into pieces of the given sizes. */
export function split(x: Value, axis: number, sizes: readonly number[]): Value[] {
  const a = norm(axis, x.shape.length);
  check(sizes.reduce((p, q) => p + q, 0) === x.shape[a], `Split: sizes ${sizes} do not cover ${x.shape[a]}`);
  const outs = sizes.map((n) => ({ dtype: x.dtype, shape: x.shape.map((d, i) => (i === a ? n : d)) }));
  return g(x).node('Split', [x, int64(x, sizes)], { axis: a }, outs);
}

/** Gather along `axis` with integer indices (int32 on WebGPU). */
export function gather(x: Value, indices: Value, axis = 0): Value {
  const a = norm(axis, x.shape.length);
  check(indices.dtype === 'int32' || indices.dtype === 'int64', 'Gather: integer indices');
  const out = [...x.shape.slice(0, a), ...indices.shape, ...x.shape.slice(a + 1)];
  return one(x, 'Gather', [x, indices], { axis: a }, x.dtype, out);
}

export function gatherElements(x: Value, indices: Value, axis: number): Value {
  const a = norm(axis, x.shape.length);
  check(indices.shape.length === x.shape.length, 'GatherElements: ranks differ');
  return one(x, 'GatherElements', [x, indices], { axis: a }, x.dtype, indices.shape);
}

export function expand(x: Value, shape: readonly number[]): Value {
  const out = broadcastShapes(x.shape, shape);
  if (out.length === x.shape.length && out.every((d, i) => d === x.shape[i])) return x;
  return one(x, 'Expand', [x, int64(x, shape)], {}, x.dtype, out);
}

// ---- composites ----
export const square = (x: Value) => mul(x, x);
export const silu = (x: Value) => mul(x, sigmoid(x));
export const sum = (xs: Value[]) => xs.reduce((acc, x) => add(acc, x));

/** RMSNorm over the last axis: x / sqrt(mean(x²) + eps) · w. */
export function rmsNorm(x: Value, w: Value, eps: number): Value {
  const inv = reciprocal(sqrt(add(reduceMean(square(x), [-1]), eps)));
  return mul(mul(x, inv), w);
}

/** Sums a broadcast result back to `shape` (undoes numpy broadcasting). */
export function sumToShape(x: Value, shape: Shape): Value {
  if (x.shape.length === shape.length && x.shape.every((d, i) => d === shape[i])) return x;
  const lead = x.shape.length - shape.length;
  const axes: number[] = [];
  x.shape.forEach((d, i) => {
    if (i < lead || (shape[i - lead] === 1 && d !== 1)) axes.push(i);
  });
  return reshape(reduceSum(x, axes, true), shape);
}
