// Test helper: runs ONNX bytes on the CPU backend and returns plain typed arrays (float64-capable).
import { createNodeRuntime } from '../runtime/node_node';
import type { Runtime, TensorData } from '../runtime/types';

let rt: Promise<Runtime> | undefined;

export async function evalGraph(bytes: Uint8Array) {
  rt ??= createNodeRuntime({ backend: 'cpu', threads: 1 });
  const runtime = await rt;
  const session = await runtime.createSession(bytes);
  return async (
    feeds: Record<string, { data: Float64Array | Float32Array | Int32Array; dims: number[] }>,
  ) => {
    const inputs = Object.fromEntries(
      Object.entries(feeds).map(([k, v]) => [
        k,
        runtime.tensor(
          v.data instanceof Float64Array ? 'float64' : v.data instanceof Int32Array ? 'int32' : 'float32',
          v.data,
          v.dims,
        ),
      ]),
    );
    const out = await session.run(inputs);
    const res: Record<string, TensorData> = {};
    for (const [k, t] of Object.entries(out)) res[k] = await runtime.read(t);
    return res;
  };
}
