// The projections a LoRA adapter can target (HF module names) and how a user's list resolves to them.
// Lives under model/ because the model graph and the adapter layout need it; train/config.ts re-exports it.
import { UserError } from '../errors';

export const ALL_LINEAR = [
  'q_proj',
  'k_proj',
  'v_proj',
  'o_proj',
  'gate_proj',
  'up_proj',
  'down_proj',
] as const;
export type TargetModule = (typeof ALL_LINEAR)[number];

/** A list of module names, or "all-linear" for every projection; returned in layer order. */
export function resolveTargets(targets: string[] | 'all-linear'): TargetModule[] {
  if (targets === 'all-linear') return [...ALL_LINEAR];
  if (targets.length === 0) throw new UserError('no LoRA target modules given');
  for (const t of targets) {
    if (!(ALL_LINEAR as readonly string[]).includes(t)) {
      throw new UserError(`unknown LoRA target '${t}'; use any of ${ALL_LINEAR.join(', ')} or all-linear`);
    }
  }
  return ALL_LINEAR.filter((t) => targets.includes(t));
}
