// Sampling: the kept set (top-k, then top-p) and its probabilities equal those of a full sort of the
// vocabulary, for peaked, flat, tied and masked logits and with a repetition penalty; draws follow the
// probabilities; greedy is the penalised argmax; a Qwen-size vocabulary is sampled without a full sort.
import { describe, expect, it } from 'vitest';
import { Rng } from '../train/rng';
import { candidates, checkSampling, defaultSampling, sampleToken, type SamplingOptions } from './sampling';

/** The previous implementation: copy, penalise, sort everything, cut. Returns id → probability. */
function reference(logits: Float32Array, seen: number[], o: SamplingOptions): Map<number, number> {
  const z = Float64Array.from(logits);
  if (o.repetitionPenalty !== 1)
    for (const id of new Set(seen))
      z[id] = z[id] < 0 ? z[id] * o.repetitionPenalty : z[id] / o.repetitionPenalty;
  let idx = Array.from(z.keys()).sort((a, b) => z[b] - z[a]);
  if (o.topK > 0) idx = idx.slice(0, o.topK);
  const m = z[idx[0]];
  const p = idx.map((i) => Math.exp((z[i] - m) / o.temperature));
  const total = p.reduce((a, b) => a + b, 0);
  let keep = idx.length;
  if (o.topP < 1) {
    let acc = 0;
    for (let k = 0; k < idx.length; k++) {
      acc += p[k] / total;
      if (acc >= o.topP) {
        keep = k + 1;
        break;
      }
    }
  }
  const mass = p.slice(0, keep).reduce((a, b) => a + b, 0);
  return new Map(idx.slice(0, keep).map((id, k) => [id, p[k] / mass]));
}

function probs(logits: Float32Array, seen: number[], o: SamplingOptions): Map<number, number> {
  const { ids, weights } = candidates(logits, seen, o);
  const mass = weights.reduce((a, b) => a + b, 0);
  return new Map(Array.from(ids, (id, k) => [id, weights[k] / mass]));
}

function logitsOf(kind: string, V: number, seed: number): Float32Array {
  const r = new Rng(seed);
  const x = new Float32Array(V);
  for (let i = 0; i < V; i++) {
    const u = r.uniform();
    if (kind === 'flat') x[i] = 0.3 * u;
    else if (kind === 'peaked') x[i] = 12 * u ** 8;
    else if (kind === 'ties') x[i] = Math.floor(u * 4);
    else if (kind === 'far')
      x[i] = i % 2 ? 3 * u : -100 - u; // half the tokens ~140 nats below the best
    else x[i] = u < 0.3 ? -Infinity : 5 * u; // masked
  }
  return x;
}

const base: SamplingOptions = { temperature: 0.7, topK: 0, topP: 1, repetitionPenalty: 1 };

describe('sampling', () => {
  const cases: Partial<SamplingOptions>[] = [
    { topP: 0.9 },
    { topP: 0.5, temperature: 1.3 },
    { topK: 7 },
    { topK: 40, topP: 0.8 },
    { topK: 3, topP: 0.99 },
    {},
    { topP: 0.9, repetitionPenalty: 1.3 },
  ];
  for (const kind of ['flat', 'peaked', 'ties', 'masked', 'far'])
    for (const c of cases)
      it(`keeps what a full sort keeps: ${kind} ${JSON.stringify(c)}`, () => {
        const logits = logitsOf(kind, 3000, kind.length);
        const o = { ...base, ...c };
        const seen = [5, 17, 17, 2999];
        const want = reference(logits, seen, o);
        const got = probs(logits, seen, o);
        expect([...got.keys()].sort((a, b) => a - b)).toEqual([...want.keys()].sort((a, b) => a - b));
        for (const [id, p] of want) expect(got.get(id)).toBeCloseTo(p, 12);
      });

  it('draws tokens with their probabilities, the same ones for the same seed', () => {
    const logits = Float32Array.from([2, 1, 0.5, -1, 3]);
    const o = { ...base, temperature: 1 };
    const want = reference(logits, [], o);
    const n = 20000;
    const rng = new Rng(3);
    const counts = new Map<number, number>();
    const draws: number[] = [];
    for (let i = 0; i < n; i++) {
      const id = sampleToken(logits, [], o, rng);
      draws.push(id);
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    for (const [id, p] of want) expect(Math.abs((counts.get(id) ?? 0) / n - p)).toBeLessThan(0.012);
    const again = new Rng(3);
    expect(draws.slice(0, 50)).toEqual(draws.slice(0, 50).map(() => sampleToken(logits, [], o, again)));
  });

  it('refuses settings with no meaning, naming them', () => {
    expect(() => checkSampling(defaultSampling)).not.toThrow();
    expect(() => checkSampling({ ...defaultSampling, topP: 1.5 })).toThrow(
      'topP must be in [0, 1] (got 1.5)',
    );
    expect(() => checkSampling({ ...defaultSampling, temperature: -1 }, (k) => `<${k}>`)).toThrow(
      '<temperature> must be ≥ 0 (got -1)',
    );
    expect(() => checkSampling({ ...defaultSampling, topK: 2.5 })).toThrow('topK must be an integer ≥ 0');
    expect(() => checkSampling({ ...defaultSampling, repetitionPenalty: 0 })).toThrow(
      'repetitionPenalty must be > 0 (got 0)',
    );
  });

  it('greedy is the argmax after the repetition penalty', () => {
    const logits = Float32Array.from([1, 4, 3.5, -2]);
    const o = { ...base, temperature: 0 };
    expect(sampleToken(logits, [], o, new Rng(0))).toBe(1);
    expect(sampleToken(logits, [1], { ...o, repetitionPenalty: 1.5 }, new Rng(0))).toBe(2);
  });

  it('samples a Qwen-size vocabulary with top-p 0.9 in far less time than sorting it', () => {
    const V = 151936;
    const logits = logitsOf('flat', V, 11); // flat: the nucleus holds most of the vocabulary
    const o = { ...base, topP: 0.9 };
    const rng = new Rng(1);
    sampleToken(logits, [], o, rng);
    const t0 = performance.now();
    for (let i = 0; i < 10; i++) sampleToken(logits, [], o, rng);
    const fast = (performance.now() - t0) / 10;
    const t1 = performance.now();
    reference(logits, [], o);
    const sorted = performance.now() - t1;
    expect(fast).toBeLessThan(sorted / 3);
  });
});
