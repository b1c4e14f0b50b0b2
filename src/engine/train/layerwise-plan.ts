// The layer-wise plan (DESIGN §8): per micro-batch, embed → `layer` L times keeping only the residual stream
// hᵢ → head (loss, dh_L) → `layer_grad` from L−1 down to 0, each recomputing its layer's forward; then one
// optimizer run over every layer's slice. Peak memory: the weights, L+1 residual streams and ONE layer's
// activations, instead of every layer's at once. LoRA parameters and moments live per layer on the device.
import type { RtTensor, Session } from '../runtime/types';
import { labelRows, type MicroBatch } from './batches';
import { BlockedLayer } from './layerwise-blocked-plan';
import {
  buildEmbedGraph,
  buildHeadGraph,
  buildLayerGraph,
  buildOptimizerGraph,
  layerSliceSize,
  layerWeightShapes,
  type LayerwiseSpec,
} from './layerwise';
import {
  batchFeeds,
  finiteStep,
  noiseFeeds,
  optimizerFeeds,
  readScalar,
  seedTensor,
  SessionCache,
  type OptimizerScalars,
  type PlanSettings,
  type StateName,
  type StepPlan,
} from './plan';

const STATE: StateName[] = ['params', 'm', 'v'];

/** Rows [offset, offset + B) of a micro-batch, run on their own (`offset` absent: the whole micro-batch). */
export type Block = MicroBatch & { offset?: number };

/**
 * A micro-batch as blocks of at most `rows` sequences, each with the labelled positions that fall in it (the
 * gradient is the same sum; dropout and NEFTune hash each block's rows at their place in the micro-batch).
 */
export function rowBlocks(mb: MicroBatch, rows: number): Block[] {
  if (rows >= mb.B) return [mb];
  const { T } = mb;
  const out: Block[] = [];
  for (let r0 = 0; r0 < mb.B; r0 += rows) {
    const B = Math.min(rows, mb.B - r0);
    const pos: number[] = [];
    const ids: number[] = [];
    for (let k = 0; k < mb.tokens; k++) {
      const p = mb.label_pos[k];
      if (p >= r0 * T && p < (r0 + B) * T) {
        pos.push(p - r0 * T);
        ids.push(mb.label_ids[k]);
      }
    }
    const { N, label_pos, label_ids } = labelRows(pos, ids, B, T);
    const rowsOf = <A extends Int32Array | Float32Array>(a: A) => a.slice(r0 * T, (r0 + B) * T) as A;
    out.push({
      B,
      T,
      N,
      input_ids: rowsOf(mb.input_ids),
      position_ids: rowsOf(mb.position_ids),
      segment_ids: rowsOf(mb.segment_ids),
      label_pos,
      label_ids,
      tokens: pos.length,
      offset: r0,
    });
  }
  return out;
}

export class LayerwisePlan implements StepPlan {
  readonly kind = 'layerwise';
  private readonly L: number;
  /** size of one layer's LoRA slice */
  private readonly P: number;
  /** [state][layer] */
  private state = new Map<StateName, RtTensor[]>();
  private readonly cache: SessionCache;
  private readonly layerNames: string[];
  private readonly headNames: string[];
  private readonly embedNames: string[];

  constructor(private readonly s: PlanSettings) {
    const c = s.device.config;
    this.L = c.num_hidden_layers;
    this.P = layerSliceSize(this.layerSpecs(), s.rank);
    this.cache = new SessionCache(s.rt, s.reuseMemory ?? false);
    const names = [...s.device.shapes.keys()];
    this.layerNames = [...layerWeightShapes(s.device.shapes).keys()];
    const head = c.tie_word_embeddings ? 'model.embed_tokens.weight' : 'lm_head.weight';
    this.headNames = names.filter((n) => n.startsWith(head) || n === 'model.norm.weight');
    this.embedNames = names.filter((n) => n.startsWith('model.embed_tokens.weight'));
  }

  private layerSpecs() {
    return this.s.specs.filter((x) => x.layer === 0);
  }

  private spec(mb: MicroBatch, rowBlock = false): LayerwiseSpec {
    const s = this.s;
    return {
      config: s.device.config,
      weightShapes: s.device.shapes,
      storage: s.device.storage,
      layerSpecs: this.layerSpecs(),
      rank: s.rank,
      scale: s.scale,
      dropout: s.dropout,
      neftune: s.neftuneAlpha > 0,
      B: mb.B,
      T: mb.T,
      rowBlock,
      blockedAttention: this.queryBlock(mb) !== undefined,
    };
  }

  /** Query block size when attention runs in blocks for rows of mb.T tokens (undefined: unblocked). */
  private queryBlock(mb: MicroBatch) {
    const Q = this.s.queryBlock;
    return Q && Q < mb.T ? Q : undefined;
  }

  private blockedLayer(mb: Block) {
    const Q = this.queryBlock(mb);
    return Q ? new BlockedLayer(this.s.rt, this.cache, this.spec(mb, mb.offset !== undefined), Q) : undefined;
  }

  async write(name: StateName, data: Float32Array): Promise<void> {
    const old = this.state.get(name);
    const next: RtTensor[] = [];
    for (let i = 0; i < this.L; i++)
      next.push(await this.s.rt.upload('float32', data.slice(i * this.P, (i + 1) * this.P), [this.P]));
    this.state.set(name, next);
    for (const t of old ?? []) this.s.rt.dispose(t);
  }

  async read(name: StateName): Promise<Float32Array> {
    const out = new Float32Array(this.L * this.P);
    const parts = this.state.get(name)!;
    for (let i = 0; i < this.L; i++) out.set((await this.s.rt.read(parts[i])) as Float32Array, i * this.P);
    return out;
  }

  private embedSession(mb: Block, train: boolean): Promise<Session> {
    const block = mb.offset !== undefined;
    const blocked = this.queryBlock(mb) !== undefined;
    return this.cache.get(`embed/${train}/${mb.B}/${mb.T}/${block}/${blocked}`, () => ({
      graph: buildEmbedGraph(this.spec(mb, block), train),
      keep: blocked ? ['h', 'cos', 'sin'] : ['h', 'cos', 'sin', 'bias'],
    }));
  }

  private layerSession(mb: Block, train: boolean, grad: false | { accumulateIn: boolean }) {
    const kind = grad ? `grad${grad.accumulateIn ? '+acc' : ''}` : train ? 'train' : 'eval';
    const block = mb.offset !== undefined;
    return this.cache.get(`layer/${kind}/${mb.B}/${mb.T}/${block}`, () => ({
      graph: buildLayerGraph(this.spec(mb, block), train, grad),
      keep: grad ? ['dh', 'grad'] : ['h_out'],
      reuseMemory: kind !== 'eval',
    }));
  }

  private headSession(mb: MicroBatch, grad: boolean, accumulate = false) {
    const chunk = Math.min(this.s.ceChunk, mb.N);
    return this.cache.get(`head/${mb.B}/${mb.T}/${mb.N}/${grad}/${accumulate}`, () => ({
      graph: buildHeadGraph(this.spec(mb), mb.N, chunk, grad, accumulate),
      keep: grad ? ['dh'] : [],
      reuseMemory: grad,
    }));
  }

  /**
   * Σ w·CE over the labelled rows (and dh_L with `grad`), one cross-entropy chunk of rows per run: a graph of
   * many chunks had onnxruntime hold them side by side (1 × 4096: +2.5 GB).
   */
  private async head(mb: MicroBatch, h: RtTensor, scale: number, grad: boolean) {
    const chunk = Math.min(this.s.ceChunk, mb.N);
    let loss = 0;
    let dh: RtTensor | undefined;
    for (let at = 0; at < mb.N; at += chunk) {
      const n = Math.min(chunk, mb.N - at);
      const tokens = Math.max(0, Math.min(n, mb.tokens - at));
      if (tokens === 0 && at > 0) continue; // padding rows only
      const part: MicroBatch =
        n === mb.N
          ? mb
          : {
              ...mb,
              N: n,
              tokens,
              label_pos: mb.label_pos.slice(at, at + n),
              label_ids: mb.label_ids.slice(at, at + n),
            };
      const f = this.headFeeds(part, h, scale);
      if (dh) f.dh_acc = dh;
      const out = await (await this.headSession(part, grad, dh !== undefined)).run(f);
      loss += await readScalar(this.s.rt, out.loss);
      this.free([out.loss, dh]);
      dh = grad ? out.dh : undefined;
    }
    return { loss, dh };
  }

  /** Embedding and every layer's forward; returns the residual streams h₀…h_L and the shared tensors. */
  private async forward(mb: Block, seed: number | null) {
    const { rt, device } = this.s;
    const rope = await device.ropeTables(mb.T);
    const feeds: Record<string, RtTensor> = {
      input_ids: rt.tensor('int32', mb.input_ids, [mb.B, mb.T]),
      position_ids: rt.tensor('int32', mb.position_ids, [mb.B, mb.T]),
      segment_ids: rt.tensor('float32', mb.segment_ids, [mb.B, mb.T]),
      rope_cos: rope.cos,
      rope_sin: rope.sin,
    };
    device.feedWeights(feeds, this.embedNames);
    if (seed !== null && this.s.neftuneAlpha > 0) {
      Object.assign(feeds, noiseFeeds(this.s, mb, seed));
      if (mb.offset !== undefined) feeds.row_offset = this.offsetTensor(mb);
    }
    const e = await (await this.embedSession(mb, seed !== null)).run(feeds);
    const blocked = this.blockedLayer(mb);
    // blocked attention builds each query block's mask from the segment ids
    const shared: Record<string, RtTensor> = blocked
      ? { cos: e.cos, sin: e.sin, segment_ids: feeds.segment_ids }
      : { cos: e.cos, sin: e.sin, bias: e.bias };
    const hs: RtTensor[] = [e.h];
    const train = seed !== null;
    const session = blocked ? undefined : await this.layerSession(mb, train, false);
    for (let i = 0; i < this.L; i++) {
      const f = this.layerFeeds(mb, i, hs[i], shared, seed);
      hs.push(blocked ? await blocked.forward(f, train) : (await session!.run(f)).h_out);
    }
    return { hs, shared };
  }

  private offsetTensor(mb: Block) {
    return this.s.rt.tensor('int32', Int32Array.from([mb.offset! * mb.T]), [1]);
  }

  private layerFeeds(
    mb: Block,
    i: number,
    h: RtTensor,
    shared: Record<string, RtTensor>,
    seed: number | null,
  ) {
    const rt = this.s.rt;
    const f: Record<string, RtTensor> = { h, ...shared, params: this.state.get('params')![i] };
    this.s.device.feedLayer(f, i, this.layerNames);
    if (seed !== null && this.s.dropout > 0) {
      f.dropout_seed = seedTensor(rt, seed);
      f.layer_salt = rt.tensor('int32', Int32Array.from([i * 8]), [1]);
      if (mb.offset !== undefined) f.row_offset = this.offsetTensor(mb);
    }
    return f;
  }

  private headFeeds(mb: MicroBatch, h: RtTensor, scale: number) {
    const { label_pos, label_ids, label_w } = batchFeeds(this.s.rt, mb, scale);
    const f: Record<string, RtTensor> = { h, label_pos, label_ids, label_w };
    this.s.device.feedWeights(f, this.headNames);
    return f;
  }

  private free(ts: Iterable<RtTensor | undefined>) {
    for (const t of ts) if (t) this.s.rt.dispose(t);
  }

  /**
   * Forward and backward of one micro-batch; adds its LoRA gradient into `grads` (per layer, replaced in place)
   * and returns Σ w·CE.
   */
  private async backwardPass(mb: MicroBatch, scale: number, seed: number, grads: (RtTensor | undefined)[]) {
    let loss = 0;
    for (const block of rowBlocks(mb, this.s.rowsPerRun ?? mb.B))
      loss += await this.blockPass(block, scale, seed, grads);
    return loss;
  }

  private async blockPass(mb: Block, scale: number, seed: number, grads: (RtTensor | undefined)[]) {
    const { hs, shared } = await this.forward(mb, seed);
    const head = await this.head(mb, hs[this.L], scale, true);
    const loss = head.loss;
    this.free([hs[this.L]]);
    let dh = head.dh!;
    const blocked = this.blockedLayer(mb);
    for (let i = this.L - 1; i >= 0; i--) {
      const acc = grads[i];
      if (blocked) {
        const out = await blocked.backward(this.layerFeeds(mb, i, hs[i], shared, seed), dh, acc);
        this.free([hs[i], dh, acc]);
        dh = out.dh;
        grads[i] = out.grad;
        continue;
      }
      const session = await this.layerSession(mb, true, { accumulateIn: acc !== undefined });
      const feeds = this.layerFeeds(mb, i, hs[i], shared, seed);
      feeds.dh_out = dh;
      if (acc) feeds.acc = acc;
      const out = await session.run(feeds);
      this.free([hs[i], dh, acc]);
      dh = out.dh;
      grads[i] = out.grad;
    }
    this.free([dh, ...Object.values(shared)]);
    return loss;
  }

  async step(mbs: MicroBatch[], scale: number, seeds: number[], opt: OptimizerScalars) {
    const { rt } = this.s;
    const grads: (RtTensor | undefined)[] = new Array(this.L).fill(undefined);
    let loss = 0;
    for (let k = 0; k < mbs.length; k++) loss += await this.backwardPass(mbs[k], scale, seeds[k], grads);
    const clip = opt.maxNorm > 0;
    const session = await this.cache.get(`optimizer/${clip}`, () => {
      const graph = buildOptimizerGraph(this.L, this.P, clip);
      return { graph, keep: graph.outputs.map((v) => v.name).filter((n) => n !== 'grad_norm') };
    });
    const feeds = optimizerFeeds(rt, opt);
    for (let i = 0; i < this.L; i++) {
      feeds[`grad_${i}`] = grads[i]!;
      for (const n of STATE) feeds[`${n}_${i}`] = this.state.get(n)![i];
    }
    const out = await session.run(feeds);
    const gradNorm = await readScalar(rt, out.grad_norm);
    if (!finiteStep(loss, gradNorm)) {
      this.free([...Object.values(out), ...grads]); // not applied: the kept state stays as it was
      return { loss, gradNorm };
    }
    for (const n of STATE) {
      const old = this.state.get(n)!;
      this.state.set(
        n,
        old.map((_, i) => out[`new.${n}_${i}`]),
      );
      this.free(old);
    }
    this.free(grads);
    return { loss, gradNorm };
  }

  async evalLoss(mb: MicroBatch): Promise<number> {
    const { hs, shared } = await this.forward(mb, null);
    const { loss } = await this.head(mb, hs[this.L], 1, false);
    this.free([...hs, ...Object.values(shared)]);
    return loss;
  }

  async gradients(mbs: MicroBatch[], scale: number): Promise<Float32Array> {
    const grads: (RtTensor | undefined)[] = new Array(this.L).fill(undefined);
    for (const mb of mbs) await this.backwardPass(mb, scale, 0, grads);
    const out = new Float32Array(this.L * this.P);
    for (let i = 0; i < this.L; i++) out.set((await this.s.rt.read(grads[i]!)) as Float32Array, i * this.P);
    this.free(grads);
    return out;
  }

  async dispose(): Promise<void> {
    await this.cache.release();
    for (const ts of this.state.values()) this.free(ts);
    this.state.clear();
  }
}
