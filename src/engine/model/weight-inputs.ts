// Base weights as graph inputs in the dtype they are stored in on the device. float16 storage (half the
// memory; DESIGN §8) is cast to float32 where the graph reads it, so the math is float32 either way.
import type { Graph, Value } from '../graph/ir';
import * as o from '../graph/ops';

export type WeightStorage = 'float32' | 'float16';

export function weightInput(g: Graph, name: string, shape: number[], storage: WeightStorage): Value {
  const x = g.input(name, storage, shape);
  return storage === 'float32' ? x : o.cast(x, 'float32');
}
