// LoRA dropout masks made inside the graph: the WebGPU EP has no RandomUniform/Dropout kernel, so each
// element's keep/drop comes from a counter-based hash of (seed, salt, row, column) in int32 arithmetic
// (wrapping Add/Mul and truncating Div), which gives identical masks on the CPU and WebGPU backends.
import type { Value } from '../graph/ir';
import * as o from '../graph/ops';

const i32 = (x: Value, n: number) => x.graph.constant(Int32Array.from([n | 0]), 'int32', [], 'k');

// The (row, column, seed) part of the hash, shared by every mask over the same input tensor (q/k/v take the
// layer's one normed input, gate/up too). Wrapping int32 addition is associative, so sharing it changes
// no mask.
// `rowBase` (int32 (1), optional) is added to every row index: a micro-batch run in row blocks hashes each
// block's rows as the whole micro-batch would.
const bases = new WeakMap<Value, Value>();
function baseHash(x: Value, seed: Value, rowBase?: Value): Value {
  let h = bases.get(x);
  if (!h) {
    const [M, K] = x.shape;
    const rows = x.graph.constant(
      Int32Array.from({ length: M }, (_, i) => i),
      'int32',
      [M, 1],
      'rows',
    );
    const cols = x.graph.constant(
      Int32Array.from({ length: K }, (_, i) => i),
      'int32',
      [1, K],
      'cols',
    );
    h = o.add(o.mul(rows, i32(x, 0x27d4eb2d)), o.mul(cols, i32(x, 0x165667b1))); // (M, K)
    h = o.add(h, o.mul(seed, i32(x, 0x3c6ef372)));
    if (rowBase) h = o.add(h, o.mul(rowBase, i32(x, 0x27d4eb2d)));
    bases.set(x, h);
  }
  return h;
}

/**
 * Uniform values in [0, 1) for each element of x (M, K) from a counter-based hash of (seed, salt, row,
 * column); seed: (1) int32. Four rounds of h ← (h + ⌊h / 2¹⁶⌋)·k after h ← h·(2h + 1) (an invertible
 * quadratic map mod 2³²): with no xor or shift on the WebGPU EP this mixes well enough that masks of
 * neighbouring elements, modules and seeds agree on 50.0 ± 0.2 % of entries at p = 0.5 (the plain
 * multiply/fold rounds alone gave 55 %). A salt given as a graph input hashes exactly as the number would.
 */
export function hashUniform(x: Value, seed: Value, salt: number | Value, rowBase?: Value): Value {
  const salted =
    typeof salt === 'number'
      ? i32(x, Math.imul(salt + 1, 0x9e3779b1))
      : o.mul(o.add(salt, i32(x, 1)), i32(x, 0x9e3779b1));
  let h = o.add(baseHash(x, seed, rowBase), salted); // (M, K)
  for (const k of [0x85ebca6b, 0xc2b2ae35, 0x7feb352d, 0x846ca68b]) {
    h = o.mul(h, o.add(o.mul(h, i32(h, 2)), i32(h, 1)));
    h = o.mul(o.add(h, o.div(h, i32(h, 65536))), i32(h, k));
  }
  // top 24 bits (signed) → uniform in [0, 1)
  return o.mul(o.add(o.cast(o.div(h, i32(h, 256)), 'float32'), 2 ** 23), 2 ** -24); // (M, K)
}

/** Inverted-dropout mask for x (M, K): 0 with probability p, else 1/(1−p). */
export function dropoutMask(x: Value, seed: Value, salt: number | Value, p: number, rowBase?: Value): Value {
  const keep = o.cast(o.less(x.graph.scalar(p), hashUniform(x, seed, salt, rowBase)), 'float32'); // P(u > p) = 1 − p
  return o.mul(keep, 1 / (1 - p));
}

/** Salt of the NEFTune noise, apart from every layer·8 + module salt of the dropout masks. */
export const NEFTUNE_SALT = 0x3fffffff;

/**
 * NEFTune (Jain et al.): h + U(−1, 1)·α/√(L·d) on the input embeddings during training. h: (B·T, D);
 * scale: (B·T, 1) = α/√(L·d) with L the row's unpadded length (0 on padding), made on the host.
 */
export function neftune(h: Value, seed: Value, scale: Value, rowBase?: Value): Value {
  const u = hashUniform(h, seed, NEFTUNE_SALT, rowBase); // (B·T, D) in [0, 1)
  return o.add(h, o.mul(o.sub(o.mul(u, 2), 1), scale));
}
