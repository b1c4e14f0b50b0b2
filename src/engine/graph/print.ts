// Readable text form of a graph, one node a line, for debugging and snapshot tests:
//   %name = Op[attrs](%a, %b) : float32[2,3]
import { live } from './onnx';
import { shapeStr, type Graph, type Value } from './ir';

const ty = (v: Value) => `${v.dtype}${shapeStr(v.shape)}`;
const fmt = (v: unknown): string =>
  Array.isArray(v)
    ? `[${v.join(',')}]`
    : typeof v === 'object'
      ? String((v as { float: number }).float)
      : String(v);

export function printGraph(graph: Graph): string {
  const { nodes, constants } = live(graph);
  const lines = [`graph ${graph.name} (opset ${graph.opset})`];
  for (const v of graph.inputs) lines.push(`  input %${v.name} : ${ty(v)}`);
  for (const c of constants) {
    const preview =
      c.data!.length <= 4 ? ` = {${Array.from(c.data as ArrayLike<unknown>, String).join(',')}}` : '';
    lines.push(`  const %${c.name} : ${ty(c)}${preview}`);
  }
  for (const n of nodes) {
    const attrs = Object.entries(n.attrs)
      .map(([k, v]) => `${k}=${fmt(v)}`)
      .join(' ');
    const outs = n.outputs.map((o) => `%${o.name}`).join(', ');
    const ins = n.inputs.map((x) => (x ? `%${x.name}` : '_')).join(', ');
    const dom = n.domain ? `${n.domain}.` : '';
    lines.push(
      `  ${outs} = ${dom}${n.op}${attrs ? `[${attrs}]` : ''}(${ins}) : ${n.outputs.map(ty).join(', ')}`,
    );
  }
  lines.push(`  return ${graph.outputs.map((o) => `%${o.name}`).join(', ')}`);
  return lines.join('\n');
}
