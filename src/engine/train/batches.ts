// Micro-batches for the step graph: right padding to a length bucket, or packing several rows into one
// sequence (positions restart, segment ids keep attention within each row); HF's label shift (the
// logits at t predict token t+1) and the list of labelled positions, padded to a row-count bucket.

/** One tokenized row. labels[t] is the target for input t in HF's sense (the loss shifts); −100 = ignored. */
export interface Example {
  input_ids: number[];
  labels: number[];
}

export interface MicroBatch {
  B: number;
  T: number;
  N: number;
  input_ids: Int32Array; // (B, T)
  position_ids: Int32Array; // (B, T)
  segment_ids: Float32Array; // (B, T); −1 on padding
  label_pos: Int32Array; // (N) flat index b·T + t of each labelled position
  label_ids: Int32Array; // (N) target token
  /** labelled positions that are real (the rest of the N slots is padding) */
  tokens: number;
}

export const IGNORE = -100;

/** Smallest bucket ≥ n: powers of two from `min`, capped at `max`. */
export function bucket(n: number, min: number, max: number): number {
  let b = min;
  while (b < n) b *= 2;
  return Math.max(n, Math.min(b, max));
}

/** Count of trained targets in a row after the shift. */
export function trainedTokens(e: Example): number {
  let n = 0;
  for (let t = 1; t < e.labels.length; t++) if (e.labels[t] !== IGNORE) n++;
  return n;
}

/** Lays out rows (each a list of examples sharing one sequence when packed) into one micro-batch. */
export function makeMicroBatch(rows: Example[][], B: number, maxLen: number): MicroBatch {
  const lens = rows.map((r) => r.reduce((a, e) => a + e.input_ids.length, 0));
  const T = bucket(Math.max(1, ...lens), 16, Math.max(16, maxLen));
  const input_ids = new Int32Array(B * T);
  const position_ids = new Int32Array(B * T);
  const segment_ids = new Float32Array(B * T).fill(-1);
  const pos: number[] = [];
  const ids: number[] = [];
  rows.forEach((seq, b) => {
    let at = 0;
    seq.forEach((e, s) => {
      const n = e.input_ids.length;
      for (let t = 0; t < n; t++) {
        const k = b * T + at + t;
        input_ids[k] = e.input_ids[t];
        position_ids[k] = t;
        segment_ids[k] = s;
        if (t + 1 < n && e.labels[t + 1] !== IGNORE) {
          pos.push(k);
          ids.push(e.labels[t + 1]);
        }
      }
      at += n;
    });
    // padding positions continue counting so rope tables cover them; they are never attended to
    for (let t = at; t < T; t++) position_ids[b * T + t] = t;
  });
  return { B, T, input_ids, position_ids, segment_ids, ...labelRows(pos, ids, B, T), tokens: pos.length };
}

/**
 * The labelled positions and their target ids, zero-padded to the labelled-row bucket N. Buckets are coarse
 * (an eighth, a quarter, half or all of B·T) so a run needs few sessions per length bucket: each new shape
 * is a new graph to build and, on WebGPU, to compile.
 */
export function labelRows(pos: number[], ids: number[], B: number, T: number) {
  const N =
    [8, 4, 2, 1].map((d) => Math.max(8, Math.ceil((B * T) / d))).find((n) => n >= pos.length) ?? B * T;
  const label_pos = new Int32Array(N);
  const label_ids = new Int32Array(N);
  label_pos.set(pos);
  label_ids.set(ids);
  return { N, label_pos, label_ids };
}

/** Groups examples into micro-batches of B sequences, packing greedily when asked. */
export function planMicroBatches(
  examples: Example[],
  B: number,
  maxLen: number,
  packing: boolean,
): Example[][][] {
  const seqs: Example[][] = [];
  if (packing) {
    let cur: Example[] = [];
    let len = 0;
    for (const e of examples) {
      if (cur.length && len + e.input_ids.length > maxLen) {
        seqs.push(cur);
        cur = [];
        len = 0;
      }
      cur.push(e);
      len += e.input_ids.length;
    }
    if (cur.length) seqs.push(cur);
  } else {
    for (const e of examples) seqs.push([e]);
  }
  const batches: Example[][][] = [];
  for (let i = 0; i < seqs.length; i += B) batches.push(seqs.slice(i, i + B));
  return batches;
}

/** Label weights for one micro-batch: `scale` on real slots, 0 on padding. */
export function labelWeights(mb: MicroBatch, scale: number): Float32Array {
  const w = new Float32Array(mb.N);
  w.fill(scale, 0, mb.tokens);
  return w;
}
