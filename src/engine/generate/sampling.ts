// Choosing the next token from logits, in transformers' order: repetition penalty → temperature →
// top-k → top-p, then a seeded draw (greedy when temperature is 0). The kept set is the shortest prefix of the
// tokens sorted by logit (ties: lower id first) reaching k tokens / probability p, found without sorting the
// vocabulary: a histogram of distances below the best logit, then a sort of the one boundary bucket only.
import { UserError } from '../errors';
import type { Rng } from '../train/rng';

export interface SamplingOptions {
  /** 0 = greedy. */
  temperature: number;
  /** Keep the k most likely tokens (0 = all). */
  topK: number;
  /** Keep the smallest set whose probability reaches p (1 = all). */
  topP: number;
  /** > 1 discourages tokens already in the sequence (CTRL-style, as transformers). */
  repetitionPenalty: number;
}

export const defaultSampling: SamplingOptions = { temperature: 0, topK: 0, topP: 1, repetitionPenalty: 1 };

/** Refuses settings with no meaning; errors name each setting as `name` gives it (the CLI's flags). */
export function checkSampling(
  s: SamplingOptions,
  name: (key: keyof SamplingOptions) => string = (k) => k,
): void {
  const bad = (k: keyof SamplingOptions, rule: string) => {
    throw new UserError(`${name(k)} must be ${rule} (got ${s[k]})`);
  };
  if (!(s.temperature >= 0 && Number.isFinite(s.temperature))) bad('temperature', '≥ 0');
  if (!(s.topP >= 0 && s.topP <= 1)) bad('topP', 'in [0, 1]');
  if (!(Number.isInteger(s.topK) && s.topK >= 0)) bad('topK', 'an integer ≥ 0');
  if (!(s.repetitionPenalty > 0 && Number.isFinite(s.repetitionPenalty))) bad('repetitionPenalty', '> 0');
}

export function argmax(x: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < x.length; i++) if (x[i] > x[best]) best = i;
  return best;
}

/** The tokens a draw chooses from and their unnormalised probabilities. */
export interface Candidates {
  ids: Int32Array;
  weights: Float64Array;
}

// Histogram of (best − logit) / temperature: 16 buckets per nat up to 48 nats (e^-48 ≈ 1e-21), one for the rest.
const PER_NAT = 16;
const BUCKETS = 48 * PER_NAT + 1;
// Per-vocabulary scratch reused across tokens: bucket of each token and its weight (no per-token allocation).
let scratch: { bucket: Uint16Array; w: Float64Array } | undefined;

/** Logit of token i after the repetition penalty: the penalised ids are few, kept aside instead of a copy. */
function penalised(logits: Float32Array, seen: Iterable<number>, penalty: number): Map<number, number> {
  const z = new Map<number, number>();
  if (penalty === 1) return z;
  for (const id of seen) {
    if (z.has(id) || id < 0 || id >= logits.length) continue;
    const x = logits[id];
    z.set(id, x < 0 ? x * penalty : x / penalty);
  }
  return z;
}

/** Kept set: every token whose bucket is below `b`, then `extra` (the boundary bucket's first tokens). */
interface Kept {
  b: number;
  extra: number[];
  bucket: Uint16Array;
  w: Float64Array;
  count: Float64Array;
}

/** The kept set of a temperature > 0 draw: top-k, then top-p within it. */
export function candidates(logits: Float32Array, seen: Iterable<number>, opts: SamplingOptions): Candidates {
  const { b, extra, bucket, w, count } = keep(logits, seen, opts);
  let n = extra.length;
  for (let k = 0; k < Math.min(b, BUCKETS); k++) n += count[k];
  const ids = new Int32Array(n);
  const weights = new Float64Array(n);
  let k = 0;
  for (let i = 0; i < logits.length; i++)
    if (bucket[i] < b) {
      ids[k] = i;
      weights[k++] = w[i];
    }
  for (const id of extra) {
    ids[k] = id;
    weights[k++] = w[id];
  }
  return { ids, weights };
}

function keep(logits: Float32Array, seen: Iterable<number>, opts: SamplingOptions): Kept {
  const V = logits.length;
  const over = penalised(logits, seen, opts.repetitionPenalty);
  const zOf = (i: number) => over.get(i) ?? logits[i];
  // The penalty only lowers logits, so the raw maximum bounds them all: keys stay ≥ 0, weights relative.
  let m = -Infinity;
  for (let i = 0; i < V; i++) if (logits[i] > m) m = logits[i];
  if (scratch?.w.length !== V) scratch = { bucket: new Uint16Array(V), w: new Float64Array(V) };
  const { bucket, w } = scratch;
  const mass = new Float64Array(BUCKETS);
  const count = new Float64Array(BUCKETS);
  const invT = 1 / opts.temperature;
  let total = 0;
  const bucketOf = (key: number) => {
    const b = key * PER_NAT;
    // beyond the last bucket, and NaN: the last bucket (exp gives 0 or NaN there, stored as 0)
    return b < BUCKETS - 1 ? Math.floor(b) : BUCKETS - 1;
  };
  for (let i = 0; i < V; i++) {
    const key = (m - logits[i]) * invT;
    const b = bucketOf(key);
    const wi = Math.exp(-key) || 0;
    bucket[i] = b;
    w[i] = wi;
    mass[b] += wi;
    count[b]++;
    total += wi;
  }
  for (const [i, z] of over) {
    mass[bucket[i]] -= w[i];
    count[bucket[i]]--;
    total -= w[i];
    const key = (m - z) * invT;
    const b = (bucket[i] = bucketOf(key));
    w[i] = Math.exp(-key) || 0;
    mass[b] += w[i];
    count[b]++;
    total += w[i];
  }
  // The sorted order's prefix: whole buckets, then the boundary bucket's members sorted (logit desc, id asc).
  const members = (b: number) => {
    if (over.size === 0 && V <= 1 << 21) return sortedMembers(logits, bucket, b, count[b]);
    const ids: number[] = [];
    for (let i = 0; i < V; i++) if (bucket[i] === b) ids.push(i);
    return ids.sort((a, c) => zOf(c) - zOf(a) || a - c);
  };
  /** Rank n of the shortest prefix for which done(count, mass) holds (V when none). */
  const cut = (done: (n: number, mass: number) => boolean): { b: number; extra: number[] } => {
    let n = 0;
    let acc = 0;
    for (let b = 0; b < BUCKETS; b++) {
      if (count[b] === 0) continue;
      if (!done(n + count[b], acc + mass[b])) {
        n += count[b];
        acc += mass[b];
        continue;
      }
      const extra: number[] = [];
      for (const id of members(b)) {
        extra.push(id);
        if (done(n + extra.length, (acc += w[id]))) break;
      }
      return { b, extra };
    }
    return { b: BUCKETS, extra: [] };
  };
  let kept = { b: BUCKETS, extra: [] as number[] };
  if (opts.topK > 0 && opts.topK < V) {
    kept = cut((n) => n >= opts.topK);
    total = 0;
    for (let b = 0; b < kept.b; b++) total += mass[b];
    for (const id of kept.extra) total += w[id];
  }
  if (opts.topP < 1) {
    const target = opts.topP * total;
    const byP = cut((n, acc) => acc >= target);
    // within top-k: the shorter of the two prefixes
    if (byP.b < kept.b || (byP.b === kept.b && byP.extra.length < kept.extra.length)) kept = byP;
  }
  return { ...kept, bucket, w, count };
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
/**
 * The ids of bucket b by logit descending, then id ascending, as one numeric sort of a Float64Array (no
 * comparator: flat logits put tens of thousands of tokens in one bucket). Key = (2³² − 1 − the logit's
 * order-preserving uint32) · 2²¹ + id, exact in a float64 for V ≤ 2²¹.
 */
function sortedMembers(logits: Float32Array, bucket: Uint16Array, b: number, n: number): Float64Array {
  const keys = new Float64Array(n);
  let k = 0;
  for (let i = 0; i < logits.length; i++)
    if (bucket[i] === b) {
      f32[0] = logits[i] || 0; // -0 ranks as 0
      const u = u32[0];
      const ordered = u & 0x80000000 ? ~u >>> 0 : (u | 0x80000000) >>> 0;
      keys[k++] = (0xffffffff - ordered) * 2097152 + i;
    }
  keys.sort();
  for (let j = 0; j < n; j++) keys[j] %= 2097152;
  return keys;
}

export function sampleToken(
  logits: Float32Array,
  seen: Iterable<number>,
  opts: SamplingOptions,
  rng: Rng,
): number {
  if (!(opts.temperature > 0)) {
    const over = penalised(logits, seen, opts.repetitionPenalty);
    if (over.size === 0) return argmax(logits);
    let best = 0;
    let bz = -Infinity;
    for (let i = 0; i < logits.length; i++) {
      const z = over.get(i) ?? logits[i];
      if (z > bz) [best, bz] = [i, z];
    }
    return best;
  }
  // The draw walks the kept set in the order candidates() lists it, without building it.
  const { b, extra, bucket, w } = keep(logits, seen, opts);
  let mass = 0;
  let last = -1;
  for (let i = 0; i < logits.length; i++) if (bucket[i] < b) mass += w[i];
  for (const id of extra) mass += w[id];
  let u = rng.uniform() * mass;
  for (let i = 0; i < logits.length; i++)
    if (bucket[i] < b) {
      last = i;
      if ((u -= w[i]) <= 0) return i;
    }
  for (const id of extra) {
    last = id;
    if ((u -= w[id]) <= 0) return id;
  }
  return last;
}
