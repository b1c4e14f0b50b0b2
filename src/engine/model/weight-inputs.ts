// Base weights as graph inputs in the dtype they are stored in on the device. float16 storage (half the
// memory; DESIGN §8) applies to the decoder layers' weights, cast to float32 where a layer graph reads them,
// so the math is float32 either way and only one layer's float32 copy exists at a time. Vocabulary matrices
// stay float32: every cross-entropy chunk reads the whole head, so a cast copy would outlive its savings.
import type { Graph, Value } from '../graph/ir';
import * as o from '../graph/ops';

export type WeightStorage = 'float32' | 'float16';

/** The dtype a base weight is kept in under a storage choice. */
export const storedDtype = (name: string, storage: WeightStorage): WeightStorage =>
  storage === 'float16' && name.startsWith('model.layers.') ? 'float16' : 'float32';

export function weightInput(g: Graph, name: string, shape: number[], dtype: WeightStorage): Value {
  const x = g.input(name, dtype, shape);
  return dtype === 'float32' ? x : o.cast(x, 'float32');
}
