// Test helpers for exports: a LoRA adapter with random, nonzero A and B (a fresh adapter has B = 0, which
// would make every merge and adapter check trivially pass).
import type { Adapter } from '../io/peft';
import type { ModelConfig } from '../model/config';
import { loraSpecs, slotKey } from '../model/lora';
import { ALL_LINEAR, type TargetModule } from '../train/config';
import { Rng } from '../train/rng';

export function randomAdapter(
  config: ModelConfig,
  opts: {
    rank?: number;
    alpha?: number;
    rslora?: boolean;
    targets?: readonly TargetModule[];
    seed?: number;
    bScale?: number;
  } = {},
): Adapter {
  const rank = opts.rank ?? 4;
  const targets = [...(opts.targets ?? ALL_LINEAR)];
  const rng = new Rng(opts.seed ?? 1);
  const A = new Map<string, Float32Array>();
  const B = new Map<string, Float32Array>();
  for (const s of loraSpecs(config, targets)) {
    const a = Float32Array.from({ length: s.in * rank }, () => (rng.uniform() * 2 - 1) / Math.sqrt(s.in));
    const b = Float32Array.from(
      { length: rank * s.out },
      () => (rng.uniform() * 2 - 1) * (opts.bScale ?? 0.2),
    );
    A.set(slotKey(s.layer, s.module), a);
    B.set(slotKey(s.layer, s.module), b);
  }
  return {
    meta: {
      rank,
      alpha: opts.alpha ?? 2 * rank,
      targets,
      rslora: opts.rslora ?? false,
      dropout: 0,
      baseModel: 'test',
    },
    weights: { A, B },
  };
}
