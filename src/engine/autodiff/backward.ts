// Reverse-mode autodiff over the IR: walks the nodes between the trainable inputs and the loss in
// reverse creation order (a topological order), applies rules.ts and sums each gradient to its input's
// shape. Only nodes on a path from a trainable value to the loss get gradient nodes.
import { GraphError, type Node, type Value } from '../graph/ir';
import * as o from '../graph/ops';
import { rules, type Rule } from './rules';

const isFloat = (v: Value) => v.dtype === 'float32' || v.dtype === 'float64' || v.dtype === 'float16';

/**
 * Builds d(loss)/d(param) for each param into loss's graph. `seed` is the gradient of `loss` (default 1,
 * which needs a scalar loss). Returns gradients in the order of `params`; a param the loss does not depend
 * on is an error (a wrong target list should not train silently).
 */
export function backward(loss: Value, params: readonly Value[], seed?: Value): Value[] {
  const graph = loss.graph;
  if (!seed && loss.shape.length !== 0)
    throw new GraphError('backward: loss must be a scalar without a seed');

  // values that depend on a param (forward reach)
  const dependsOnParam = new Set<Value>(params);
  for (const n of graph.nodes) {
    if (n.inputs.some((x) => x && dependsOnParam.has(x))) {
      for (const y of n.outputs) if (!y.noGrad && isFloat(y)) dependsOnParam.add(y);
    }
  }
  if (!dependsOnParam.has(loss))
    throw new GraphError('backward: the loss does not depend on any trainable value');

  // nodes the loss depends on (backward reach), restricted to the forward reach
  const onPath = new Set<Node>();
  const seen = new Set<Value>(params); // the walk stops at the trainable values
  const stack = [loss];
  while (stack.length) {
    const v = stack.pop()!;
    if (seen.has(v) || !dependsOnParam.has(v) || !v.producer) continue;
    seen.add(v);
    onPath.add(v.producer);
    for (const x of v.producer.inputs) if (x) stack.push(x);
  }

  const grads = new Map<Value, Value[]>();
  const push = (v: Value, gv: Value) => {
    const list = grads.get(v);
    if (list) list.push(gv);
    else grads.set(v, [gv]);
  };
  const total = (v: Value): Value | null => {
    const list = grads.get(v);
    if (!list) return null;
    const s = list.length === 1 ? list[0] : o.sum(list);
    grads.set(v, [s]);
    return s;
  };
  push(loss, seed ?? graph.scalar(1, loss.dtype));

  const nodes = graph.nodes.filter((n) => onPath.has(n));
  for (let i = nodes.length - 1; i >= 0; i--) {
    const node = nodes[i];
    const dy = node.outputs.map(total);
    if (dy.every((d) => d === null)) continue;
    const rule = (rules as Record<string, Rule>)[node.op];
    if (!rule) throw new GraphError(`no gradient rule for ${node.op}`);
    const x = node.inputs.map((v) => v!);
    const needs = node.inputs.map((v) => v !== null && dependsOnParam.has(v));
    const dx = graph.scope(`grad`, () => rule({ node, x, y: node.outputs, dy, needs }));
    dx.forEach((d, k) => {
      if (d && needs[k]) push(x[k], o.sumToShape(d, x[k].shape));
    });
  }

  return params.map((p) => {
    const gp = total(p);
    if (!gp) throw new GraphError(`backward: no gradient reaches ${p.name}`);
    return gp;
  });
}
