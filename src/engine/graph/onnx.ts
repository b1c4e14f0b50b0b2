// Serialises a Graph to an ONNX ModelProto (IR version 8) with protobufjs's Writer. Field numbers are those
// of onnx.proto for the subset our graphs use. The Writer needs no generated or reflected code, so this runs
// under a Content-Security-Policy without 'unsafe-eval' (the studio's worker).
import { Writer } from 'protobufjs/minimal';
import { onnxDtype } from './ops';
import { check, type AttrValue, type Graph, type Node, type Value } from './ir';

// wire types
const VARINT = 0;
const LEN = 2;
const I32 = 5;
const tag = (field: number, wire: number) => (field << 3) | wire;
const utf8 = new TextEncoder();

const str = (w: Writer, field: number, s: string) => w.uint32(tag(field, LEN)).string(s);
const int = (w: Writer, field: number, n: number) => w.uint32(tag(field, VARINT)).int64(n);
function msg(w: Writer, field: number, body: (w: Writer) => void) {
  w.uint32(tag(field, LEN)).fork();
  body(w);
  w.ldelim();
}

// AttributeProto.AttributeType
const FLOAT = 1, INT = 2, STRING = 3, INTS = 7, STRINGS = 8; // prettier-ignore

function attribute(w: Writer, name: string, v: AttrValue) {
  str(w, 1, name);
  if (typeof v === 'number' && Number.isInteger(v)) {
    int(w, 3, v);
    int(w, 20, INT);
  } else if (typeof v === 'number' || (typeof v === 'object' && !Array.isArray(v))) {
    w.uint32(tag(2, I32)).float(typeof v === 'number' ? v : (v as { float: number }).float);
    int(w, 20, FLOAT);
  } else if (typeof v === 'string') {
    w.uint32(tag(4, LEN)).bytes(utf8.encode(v));
    int(w, 20, STRING);
  } else if ((v as readonly unknown[]).every((x) => typeof x === 'string')) {
    for (const x of v as readonly string[]) w.uint32(tag(9, LEN)).bytes(utf8.encode(x));
    int(w, 20, STRINGS);
  } else {
    for (const x of v as readonly number[]) int(w, 8, x);
    int(w, 20, INTS);
  }
}

function valueInfo(w: Writer, v: Value) {
  str(w, 1, v.name);
  msg(w, 2, (t) =>
    msg(t, 1, (tt) => {
      int(tt, 1, onnxDtype(v.dtype));
      msg(tt, 2, (sh) => {
        for (const d of v.shape) msg(sh, 1, (dim) => int(dim, 1, d));
      });
    }),
  );
}

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
  const w = Writer.create();
  int(w, 1, 8); // ir_version
  str(w, 2, 'lora-studio');
  str(w, 3, '0.1');
  const opsets: [string, number][] = [['', graph.opset]];
  if (nodes.some((n) => n.domain === 'com.microsoft')) opsets.push(['com.microsoft', 1]);
  msg(w, 7, (gw) => {
    for (const n of nodes) {
      msg(gw, 1, (nw) => {
        for (const x of n.inputs) str(nw, 1, x === null ? '' : x.name);
        for (const y of n.outputs) str(nw, 2, y.name);
        str(nw, 3, `${n.op}_${n.id}`);
        str(nw, 4, n.op);
        for (const [k, v] of Object.entries(n.attrs)) msg(nw, 5, (aw) => attribute(aw, k, v));
        if (n.domain) str(nw, 7, n.domain);
      });
    }
    str(gw, 2, graph.name);
    for (const c of constants) {
      msg(gw, 5, (tw) => {
        for (const d of c.shape) int(tw, 1, d);
        int(tw, 2, onnxDtype(c.dtype));
        str(tw, 8, c.name);
        tw.uint32(tag(9, LEN)).bytes(new Uint8Array(c.data!.buffer, c.data!.byteOffset, c.data!.byteLength));
      });
    }
    for (const v of graph.inputs) msg(gw, 11, (vw) => valueInfo(vw, v));
    for (const v of graph.outputs) msg(gw, 12, (vw) => valueInfo(vw, v));
  });
  for (const [domain, version] of opsets) {
    msg(w, 8, (ow) => {
      str(ow, 1, domain);
      int(ow, 2, version);
    });
  }
  return w.finish();
}
