// Vocabulary-sized matrices (embedding, LM head) that may be split by rows into parts `name#0`, `name#1`…
// when one tensor would exceed the device's largest binding (WebGPU binds each tensor as one storage
// buffer: Llama-3.2-1B's embedding alone is 1.05 GB). The graph then gathers, projects and back-projects
// part by part; with one part it is the plain op.
import type { Value } from '../graph/ir';
import * as o from '../graph/ops';

export interface VocabPart {
  offset: number;
  rows: number;
  value: Value; // (rows, D)
}

export const partName = (name: string, k: number) => `${name}#${k}`;

/** Row ranges of a split: parts of at most `maxBytes` each (float32). */
export function splitRows(rows: number, cols: number, maxBytes: number): { offset: number; rows: number }[] {
  const per = Math.max(1, Math.floor(maxBytes / (cols * 4)));
  if (per >= rows) return [{ offset: 0, rows }];
  const out: { offset: number; rows: number }[] = [];
  for (let at = 0; at < rows; at += per) out.push({ offset: at, rows: Math.min(per, rows - at) });
  return out;
}

/** The parts of a (possibly split) vocabulary matrix among the graph's weight inputs. */
export function vocabParts(w: Map<string, Value>, name: string): VocabPart[] {
  const whole = w.get(name);
  if (whole) return [{ offset: 0, rows: whole.shape[0], value: whole }];
  const parts: VocabPart[] = [];
  for (let k = 0, offset = 0; w.has(partName(name, k)); k++) {
    const value = w.get(partName(name, k))!;
    parts.push({ offset, rows: value.shape[0], value });
    offset += value.shape[0];
  }
  if (!parts.length) throw new Error(`no weight ${name}`);
  return parts;
}

/** Rows of a part as float32 (a float16-stored part is cast after the gather: only the gathered rows). */
const rowsOf = (p: VocabPart, idx: Value) => {
  const x = o.gather(p.value, idx);
  return x.dtype === 'float16' ? o.cast(x, 'float32') : x;
};

/** Embedding lookup: ids (…) int32 → (…, D) float32. */
export function gatherRows(parts: VocabPart[], ids: Value): Value {
  if (parts.length === 1) return rowsOf(parts[0], ids);
  // index arithmetic in float32 (exact below 2²⁴; int32 comparisons are not all on the WebGPU EP)
  const g = ids.graph;
  const f = o.cast(ids, 'float32');
  const terms = parts.map((p) => {
    const local = o.sub(f, p.offset); // (…)
    const inside = o.where(
      o.less(local, 0),
      g.scalar(0),
      o.where(o.less(local, p.rows), g.scalar(1), g.scalar(0)),
    );
    const idx = o.cast(o.mul(local, inside), 'int32'); // rows outside this part read row 0, then count 0
    return o.mul(rowsOf(p, idx), o.unsqueeze(inside, [-1])); // (…, D)
  });
  return o.sum(terms);
}

/** h (N, D) · Wᵀ → (N, V), concatenated over the parts. */
export function projectRows(h: Value, parts: VocabPart[]): Value {
  const z = parts.map((p) => o.gemm(h, p.value, null, true));
  return z.length === 1 ? z[0] : o.concat(z, 1);
}

/** dz (N, V) · W → (N, D), summed over the parts. */
export function backProjectRows(dz: Value, parts: VocabPart[]): Value {
  if (parts.length === 1) return o.matmul(dz, parts[0].value);
  return o.sum(parts.map((p) => o.matmul(o.slice(dz, 1, p.offset, p.offset + p.rows), p.value)));
}
