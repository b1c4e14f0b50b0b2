// The IR: shape inference (and its errors), dead-node pruning, the text printer (snapshot) and the ONNX
// writer's output loading in onnxruntime.
import { describe, expect, it } from 'vitest';
import { evalGraph } from '../autodiff/testing_node';
import { Graph, GraphError } from './ir';
import { toOnnx } from './onnx';
import * as o from './ops';
import { printGraph } from './print';

describe('graph IR', () => {
  it('infers broadcast and matmul shapes', () => {
    const g = new Graph();
    const a = g.input('a', 'float32', [2, 1, 3, 4]);
    const b = g.input('b', 'float32', [5, 4, 6]);
    expect(o.matmul(a, b).shape).toEqual([2, 5, 3, 6]);
    expect(o.add(a, g.input('c', 'float32', [7, 1, 1])).shape).toEqual([2, 7, 3, 4]);
    expect(o.reduceSum(a, [1, -1], false).shape).toEqual([2, 3]);
    expect(o.reshape(a, [-1, 4]).shape).toEqual([6, 4]);
  });

  it('orders axes as numbers, not as strings (10 after 2)', () => {
    const g = new Graph();
    const shape = [1, 2, 3, 1, 1, 1, 1, 1, 1, 1, 5];
    const x = g.input('x', 'float32', shape);
    const perm = [1, 0, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    expect(o.transpose(x, perm).shape).toEqual([2, 1, 3, 1, 1, 1, 1, 1, 1, 1, 5]);
    expect(o.reduceSum(x, [10, 2], false).shape).toEqual([1, 2, 1, 1, 1, 1, 1, 1, 1]);
  });

  it('rejects shapes that do not fit, naming them', () => {
    const g = new Graph();
    const a = g.input('a', 'float32', [2, 3]);
    expect(() => o.matmul(a, g.input('b', 'float32', [4, 5]))).toThrow(/MatMul: \[2,3\] @ \[4,5\]/);
    expect(() => o.add(a, g.input('c', 'float32', [4]))).toThrow(GraphError);
    expect(() => o.reshape(a, [4, 2])).toThrow(/Reshape \[2,3\]/);
  });

  it('prints a readable graph without dead nodes (snapshot)', () => {
    const g = new Graph('demo');
    const x = g.input('x', 'float32', [2, 3]);
    const w = g.input('w', 'float32', [4, 3]);
    o.exp(x); // dead: not on any output's path
    const y = o.softmax(o.gemm(x, w, null, true));
    g.output(o.reduceSum(y, [1], false), 'out');
    expect(printGraph(g)).toMatchInlineSnapshot(`
      "graph demo (opset 17)
        input %x : float32[2,3]
        input %w : float32[4,3]
        const %i64 : int64[1] = {1}
        %gemm = Gemm[transB=1](%x, %w) : float32[2,4]
        %softmax = Softmax[axis=1](%gemm) : float32[2,4]
        %out = ReduceSum[keepdims=0](%softmax, %i64) : float32[2]
        return %out"
    `);
  });

  it('writes ONNX that onnxruntime runs', async () => {
    const g = new Graph();
    const x = g.input('x', 'float32', [2, 2]);
    g.output(o.add(o.matmul(x, x), 1), 'y');
    const run = await evalGraph(toOnnx(g));
    const r = await run({ x: { data: Float32Array.from([1, 2, 3, 4]), dims: [2, 2] } });
    expect(Array.from(r.y as Float32Array)).toEqual([8, 11, 16, 23]);
  });
});
