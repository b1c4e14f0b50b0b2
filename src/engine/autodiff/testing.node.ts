// Test helper: runs ONNX bytes on the CPU backend and returns plain typed arrays (float64-capable).
import * as ort from 'onnxruntime-node';

export async function evalGraph(bytes: Uint8Array) {
  const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1 });
  return async (feeds: Record<string, { data: Float64Array | Float32Array | Int32Array; dims: number[] }>) => {
    const inputs = Object.fromEntries(
      Object.entries(feeds).map(([k, v]) => [
        k,
        new ort.Tensor(v.data instanceof Float64Array ? 'float64' : v.data instanceof Int32Array ? 'int32' : 'float32', v.data, v.dims),
      ]),
    );
    const out = await session.run(inputs);
    return Object.fromEntries(Object.entries(out).map(([k, t]) => [k, t.data as Float64Array]));
  };
}
