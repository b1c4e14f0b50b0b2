// Tensor IR: a graph of ONNX nodes over values with static shapes and dtypes.
// Every shape is concrete (training and decode graphs are built per shape bucket), which keeps shape
// inference exact, lets broadcasting be undone with constant axes, and suits WebGPU graph capture.

export type DType = 'float32' | 'float16' | 'float64' | 'int32' | 'int64' | 'bool';
export type Shape = readonly number[];
export type AttrValue = number | string | readonly number[] | readonly string[] | { float: number };
export type Attrs = Record<string, AttrValue>;
export type TypedData = Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array | Uint16Array;

export interface Value {
  readonly id: number;
  readonly graph: Graph;
  readonly dtype: DType;
  readonly shape: Shape;
  /** ONNX value name; graph inputs/outputs keep the name they were given. */
  name: string;
  /** The node producing this value; undefined for inputs and constants. */
  readonly producer?: Node;
  /** Output index within the producer. */
  readonly index: number;
  /** Constant payload (an initializer). */
  readonly data?: TypedData;
  /** True when gradients must not flow through this value (stop-gradient). */
  readonly noGrad?: boolean;
}

export interface Node {
  readonly id: number;
  readonly op: string;
  readonly domain: string;
  readonly inputs: readonly (Value | null)[];
  readonly attrs: Attrs;
  readonly outputs: Value[];
}

export const size = (s: Shape): number => s.reduce((a, b) => a * b, 1);
export const shapeStr = (s: Shape): string => `[${s.join(',')}]`;

export class GraphError extends Error {}

export function check(cond: unknown, msg: string | (() => string)): asserts cond {
  if (!cond) throw new GraphError(typeof msg === 'string' ? msg : msg());
}

let nextId = 1;

export class Graph {
  readonly nodes: Node[] = [];
  readonly inputs: Value[] = [];
  readonly outputs: Value[] = [];
  readonly constants: Value[] = [];
  private names = new Set<string>();
  /** Opset of the default domain; com.microsoft is added when used. */
  opset = 17;
  /** Name prefix for the values created while a scope is open (readability of dumps). */
  private scopeStack: string[] = [];

  constructor(readonly name = 'graph') {}

  scope<T>(name: string, fn: () => T): T {
    this.scopeStack.push(name);
    try {
      return fn();
    } finally {
      this.scopeStack.pop();
    }
  }

  private uniqueName(base: string): string {
    let name = base;
    for (let k = 1; this.names.has(name); k++) name = `${base}_${k}`;
    this.names.add(name);
    return name;
  }

  private autoName(hint: string): string {
    const prefix = this.scopeStack.length ? this.scopeStack.join('.') + '/' : '';
    return this.uniqueName(prefix + hint);
  }

  input(name: string, dtype: DType, shape: Shape): Value {
    check(!this.names.has(name), `duplicate value name ${name}`);
    const v = this.newValue(dtype, shape, this.uniqueName(name));
    this.inputs.push(v);
    return v;
  }

  /** A constant (ONNX initializer). */
  constant(data: TypedData, dtype: DType, shape: Shape, hint = 'const'): Value {
    check(
      data.length === size(shape),
      () => `constant ${hint}: ${data.length} values for shape ${shapeStr(shape)}`,
    );
    const v = this.newValue(dtype, shape, this.autoName(hint), { data });
    this.constants.push(v);
    return v;
  }

  scalar(x: number, dtype: DType = 'float32'): Value {
    return this.constant(typedOf(dtype, [x]), dtype, [], 'c');
  }

  /** Marks values as graph outputs under the given names. */
  output(v: Value, name: string): Value {
    if (v.producer === undefined || this.outputs.includes(v) || this.inputs.includes(v)) {
      v = this.node('Identity', [v], {}, [{ dtype: v.dtype, shape: v.shape }])[0];
    }
    this.names.delete(v.name);
    check(!this.names.has(name), `duplicate value name ${name}`);
    this.names.add(name);
    v.name = name;
    this.outputs.push(v);
    return v;
  }

  node(
    op: string,
    inputs: readonly (Value | null)[],
    attrs: Attrs,
    outs: { dtype: DType; shape: Shape; noGrad?: boolean }[],
    domain = '',
  ): Value[] {
    for (const x of inputs) check(x === null || x.graph === this, `${op}: input from another graph`);
    const outputs: Value[] = [];
    const node: Node = { id: nextId++, op, domain, inputs, attrs, outputs };
    outs.forEach((o, index) =>
      outputs.push(
        this.newValue(o.dtype, o.shape, this.autoName(op.toLowerCase()), {
          producer: node,
          index,
          noGrad: o.noGrad,
        }),
      ),
    );
    this.nodes.push(node);
    return outputs;
  }

  private newValue(dtype: DType, shape: Shape, name: string, extra: Partial<Value> = {}): Value {
    for (const d of shape) check(Number.isInteger(d) && d >= 0, () => `bad dimension in ${shapeStr(shape)}`);
    return { id: nextId++, graph: this, dtype, shape: [...shape], name, index: 0, ...extra };
  }
}

export function typedOf(dtype: DType, xs: ArrayLike<number>): TypedData {
  switch (dtype) {
    case 'float32':
      return Float32Array.from(xs);
    case 'float64':
      return Float64Array.from(xs);
    case 'int32':
      return Int32Array.from(xs);
    case 'int64':
      return BigInt64Array.from(Array.from(xs, (x) => BigInt(x)));
    case 'bool':
      return Uint8Array.from(xs);
    case 'float16':
      throw new GraphError('float16 constants are written from Uint16Array bits');
  }
}
