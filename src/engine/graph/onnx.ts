// Serialises a Graph to an ONNX ModelProto with protobufjs. The schema below is the subset of onnx.proto
// (field numbers as in the ONNX spec, IR version 8) that our graphs use.
import protobuf from 'protobufjs';
import { onnxDtype } from './ops';
import { check, type AttrValue, type Graph, type Node, type Value } from './ir';

const schema = {
  nested: {
    onnx: {
      nested: {
        ModelProto: {
          fields: {
            irVersion: { type: 'int64', id: 1 },
            opsetImport: { rule: 'repeated', type: 'OperatorSetIdProto', id: 8 },
            producerName: { type: 'string', id: 2 },
            producerVersion: { type: 'string', id: 3 },
            graph: { type: 'GraphProto', id: 7 },
          },
        },
        OperatorSetIdProto: {
          fields: { domain: { type: 'string', id: 1 }, version: { type: 'int64', id: 2 } },
        },
        GraphProto: {
          fields: {
            node: { rule: 'repeated', type: 'NodeProto', id: 1 },
            name: { type: 'string', id: 2 },
            initializer: { rule: 'repeated', type: 'TensorProto', id: 5 },
            input: { rule: 'repeated', type: 'ValueInfoProto', id: 11 },
            output: { rule: 'repeated', type: 'ValueInfoProto', id: 12 },
          },
        },
        NodeProto: {
          fields: {
            input: { rule: 'repeated', type: 'string', id: 1 },
            output: { rule: 'repeated', type: 'string', id: 2 },
            name: { type: 'string', id: 3 },
            opType: { type: 'string', id: 4 },
            attribute: { rule: 'repeated', type: 'AttributeProto', id: 5 },
            domain: { type: 'string', id: 7 },
          },
        },
        AttributeProto: {
          fields: {
            name: { type: 'string', id: 1 },
            f: { type: 'float', id: 2 },
            i: { type: 'int64', id: 3 },
            s: { type: 'bytes', id: 4 },
            floats: { rule: 'repeated', type: 'float', id: 7 },
            ints: { rule: 'repeated', type: 'int64', id: 8 },
            strings: { rule: 'repeated', type: 'bytes', id: 9 },
            type: { type: 'int32', id: 20 },
          },
        },
        TensorProto: {
          fields: {
            dims: { rule: 'repeated', type: 'int64', id: 1 },
            dataType: { type: 'int32', id: 2 },
            name: { type: 'string', id: 8 },
            rawData: { type: 'bytes', id: 9 },
          },
        },
        ValueInfoProto: { fields: { name: { type: 'string', id: 1 }, type: { type: 'TypeProto', id: 2 } } },
        TypeProto: { fields: { tensorType: { type: 'TensorTypeProto', id: 1 } } },
        TensorTypeProto: {
          fields: { elemType: { type: 'int32', id: 1 }, shape: { type: 'TensorShapeProto', id: 2 } },
        },
        TensorShapeProto: { fields: { dim: { rule: 'repeated', type: 'Dimension', id: 1 } } },
        Dimension: { fields: { dimValue: { type: 'int64', id: 1 }, dimParam: { type: 'string', id: 2 } } },
      },
    },
  },
};

const root = protobuf.Root.fromJSON(schema);
const ModelProto = root.lookupType('onnx.ModelProto');
const utf8 = new TextEncoder();

// AttributeProto.AttributeType
const FLOAT = 1, INT = 2, STRING = 3, INTS = 7, STRINGS = 8; // prettier-ignore

function attribute(name: string, v: AttrValue) {
  if (typeof v === 'number')
    return Number.isInteger(v) ? { name, type: INT, i: v } : { name, type: FLOAT, f: v };
  if (typeof v === 'string') return { name, type: STRING, s: utf8.encode(v) };
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) {
    return { name, type: STRINGS, strings: v.map((x) => utf8.encode(x as string)) };
  }
  if (Array.isArray(v)) return { name, type: INTS, ints: v };
  return { name, type: FLOAT, f: (v as { float: number }).float };
}

const valueInfo = (v: Value) => ({
  name: v.name,
  type: {
    tensorType: { elemType: onnxDtype(v.dtype), shape: { dim: v.shape.map((d) => ({ dimValue: d })) } },
  },
});

/** Nodes and constants that some graph output depends on, in topological (creation) order. */
export function live(graph: Graph): { nodes: Node[]; constants: Value[] } {
  const needed = new Set<Node>();
  const usedValues = new Set<Value>();
  const stack: Value[] = [...graph.outputs];
  while (stack.length) {
    const v = stack.pop()!;
    if (usedValues.has(v)) continue;
    usedValues.add(v);
    if (v.producer && !needed.has(v.producer)) {
      needed.add(v.producer);
      for (const x of v.producer.inputs) if (x) stack.push(x);
    }
  }
  return {
    nodes: graph.nodes.filter((n) => needed.has(n)),
    constants: graph.constants.filter((c) => usedValues.has(c)),
  };
}

/** Returns the graph as ONNX model bytes (dead nodes and constants dropped). */
export function toOnnx(graph: Graph): Uint8Array {
  check(graph.outputs.length > 0, 'graph has no outputs');
  const { nodes, constants } = live(graph);
  const opsetImport = [{ domain: '', version: graph.opset }];
  if (graph.nodes.some((n) => n.domain === 'com.microsoft'))
    opsetImport.push({ domain: 'com.microsoft', version: 1 });
  const msg = ModelProto.fromObject({
    irVersion: 8,
    producerName: 'lora-studio',
    producerVersion: '0.1',
    opsetImport,
    graph: {
      name: graph.name,
      node: nodes.map((n) => ({
        input: n.inputs.map((x) => (x === null ? '' : x.name)),
        output: n.outputs.map((x) => x.name),
        name: `${n.op}_${n.id}`,
        opType: n.op,
        domain: n.domain,
        attribute: Object.entries(n.attrs).map(([k, v]) => attribute(k, v)),
      })),
      initializer: constants.map((c) => ({
        name: c.name,
        dims: c.shape,
        dataType: onnxDtype(c.dtype),
        rawData: new Uint8Array(c.data!.buffer, c.data!.byteOffset, c.data!.byteLength),
      })),
      input: graph.inputs.map(valueInfo),
      output: graph.outputs.map(valueInfo),
    },
  });
  return ModelProto.encode(msg).finish();
}
