// Base weights as graph inputs in the dtype they are stored in on the device. 'float16' storage (half the
// memory; DESIGN §8) applies to the decoder layers' weights, cast to float32 where a layer graph reads them,
// so the math is float32 either way and only one layer's float32 copy exists at a time. Vocabulary matrices
// stay float32 there (generation and every cross-entropy chunk read the whole head); 'float16-all' stores
// them float16 too, for a layer-wise training step that must fit a small budget: the embedding is cast after
// its gather, the head once per head run, while no layer's activations are alive.
import type { Graph, Value } from '../graph/ir';
import * as o from '../graph/ops';

export type WeightStorage = 'float32' | 'float16' | 'float16-all';
export type StoredDtype = 'float32' | 'float16';

/** The dtype a base weight is kept in under a storage choice. */
export const storedDtype = (name: string, storage: WeightStorage): StoredDtype =>
  storage === 'float16-all' || (storage === 'float16' && name.startsWith('model.layers.'))
    ? 'float16'
    : 'float32';

/** The dtype of a decoder layer's weights under a storage choice. */
export const layerDtype = (storage: WeightStorage): StoredDtype =>
  storage === 'float32' ? 'float32' : 'float16';

export function weightInput(g: Graph, name: string, shape: number[], dtype: StoredDtype): Value {
  const x = g.input(name, dtype, shape);
  return dtype === 'float32' ? x : o.cast(x, 'float32');
}
