// The Cherry selection of the IFD panel: the top k % of scored rows by IFD, kept in dataset order.

/** Indices of the top `pct` % of scored rows by IFD (at least one when any is scored), in dataset order. */
export function topByIfd(scores: readonly (number | null)[], pct: number): number[] {
  const scored = scores.flatMap((s, i) => (s === null || !Number.isFinite(s) ? [] : [{ s, i }]));
  const k = Math.max(scored.length ? 1 : 0, Math.round((scored.length * pct) / 100));
  const keep = new Set(
    scored
      .sort((a, b) => b.s - a.s || a.i - b.i)
      .slice(0, k)
      .map((x) => x.i),
  );
  return scores.flatMap((_, i) => (keep.has(i) ? [i] : []));
}
