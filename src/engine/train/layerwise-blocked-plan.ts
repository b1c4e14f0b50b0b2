// Runs one layer of the layer-wise plan as the query-blocked graphs of layerwise-blocked.ts: forward
// qkv → attn per query block → post; backward (recomputing) qkv → attn per block → post_grad → attn_grad per
// block (dk, dv summed through acc inputs) → qkv_grad. At most one query block's scores (B·H·Q·T floats) are
// alive at a time; q, k, v, the attention output and their gradients are (B·T)-sized.
import type { RtTensor, Runtime, Session } from '../runtime/types';
import type { LayerwiseSpec } from './layerwise';
import {
  buildAttnGraph,
  buildPostGraph,
  buildQkvGraph,
  postGradSize,
  queryBlocks,
} from './layerwise-blocked';
import type { SessionCache } from './plan';

type Feeds = Record<string, RtTensor>;

/** Only the feeds a session takes (the layer's feeds serve every graph of the layer). */
const pick = (s: Session, f: Feeds) =>
  Object.fromEntries(s.inputNames.filter((n) => n in f).map((n) => [n, f[n]]));

export class BlockedLayer {
  private readonly blocks: number[];
  private readonly key: string;

  constructor(
    private readonly rt: Runtime,
    private readonly cache: SessionCache,
    private readonly spec: LayerwiseSpec,
    Q: number,
  ) {
    this.blocks = queryBlocks(spec.T, Q);
    this.key = `${spec.B}/${spec.T}/${Q}/${!!spec.rowBlock}`;
  }

  private free(ts: Iterable<RtTensor | undefined>) {
    for (const t of ts) if (t) this.rt.dispose(t);
  }

  private async qkv(base: Feeds, train: boolean) {
    const s = await this.cache.get(`qkv/${train}/${this.key}`, () => ({
      graph: buildQkvGraph(this.spec, this.blocks, train, false),
      keep: [...this.blocks.map((_, j) => `q_${j}`), 'keys', 'values'],
      reuseMemory: train,
    }));
    const out = await s.run(pick(s, base));
    return { qs: this.blocks.map((_, j) => out[`q_${j}`]), k: out.keys, v: out.values };
  }

  /** Each query block's rows of the attention output, o_j (B, Q_j, H·hd). */
  private async attention(base: Feeds, qs: RtTensor[], k: RtTensor, v: RtTensor) {
    const os: RtTensor[] = [];
    for (let j = 0; j < qs.length; j++) {
      const [Q, t0] = [this.blocks[j], j * this.blocks[0]];
      // one graph per block (each reads its own number of keys); none keeps its memory between runs, as
      // the planner counts one block's scores at a time
      const s = await this.cache.get(`attn/${Q}/${t0}/${this.key}`, () => ({
        graph: buildAttnGraph(this.spec, Q, t0, false),
        keep: ['o'],
        reuseMemory: false,
      }));
      os.push((await s.run({ q: qs[j], k, v, segment_ids: base.segment_ids })).o);
    }
    return os;
  }

  private async post(base: Feeds, os: RtTensor[], train: boolean, grad: boolean) {
    const s = await this.cache.get(`post/${train}/${grad}/${this.key}`, () => ({
      graph: buildPostGraph(this.spec, this.blocks, train, grad),
      keep: grad ? ['dh_res', 'grad_post', ...this.blocks.map((_, j) => `d_o_${j}`)] : ['h_out'],
    }));
    const f: Feeds = { ...base };
    os.forEach((t, j) => (f[`o_${j}`] = t));
    return s.run(pick(s, f));
  }

  /** h_out of the layer; `base`: h, cos, sin, segment_ids, params, the layer's weights and dropout inputs. */
  async forward(base: Feeds, train: boolean): Promise<RtTensor> {
    const { qs, k, v } = await this.qkv(base, train);
    const os = await this.attention(base, qs, k, v);
    this.free([...qs, k, v]);
    const out = await this.post(base, os, train, false);
    this.free(os);
    return out.h_out;
  }

  /** dh and the layer's LoRA gradient (+ acc) from dh_out, recomputing the layer's forward. */
  async backward(base: Feeds, dhOut: RtTensor, acc?: RtTensor): Promise<{ dh: RtTensor; grad: RtTensor }> {
    const { qs, k, v } = await this.qkv(base, true);
    const os = await this.attention(base, qs, k, v);
    const post = await this.post({ ...base, dh_out: dhOut }, os, true, true);
    this.free(os);
    const dqs: RtTensor[] = [];
    let dk: RtTensor | undefined;
    let dv: RtTensor | undefined;
    for (let j = 0; j < qs.length; j++) {
      const [Q, t0] = [this.blocks[j], j * this.blocks[0]];
      const accumulateIn = j > 0;
      const s = await this.cache.get(`attn_grad/${Q}/${t0}/${accumulateIn}/${this.key}`, () => ({
        graph: buildAttnGraph(this.spec, Q, t0, { accumulateIn }),
        keep: ['dq', 'dk', 'dv'],
        reuseMemory: false,
      }));
      const f: Feeds = { q: qs[j], k, v, segment_ids: base.segment_ids, d_o: post[`d_o_${j}`] };
      if (dk && dv) Object.assign(f, { acc_k: dk, acc_v: dv });
      const out = await s.run(f);
      this.free([qs[j], post[`d_o_${j}`], dk, dv]);
      dqs.push(out.dq);
      dk = out.dk;
      dv = out.dv;
    }
    this.free([k, v]);
    const accumulateIn = acc !== undefined;
    const s = await this.cache.get(`qkv_grad/${accumulateIn}/${this.key}`, () => ({
      graph: buildQkvGraph(this.spec, this.blocks, true, { accumulateIn, postSize: postGradSize(this.spec) }),
      keep: ['dh', 'grad'],
    }));
    const f: Feeds = { ...base, dk: dk!, dv: dv!, dh_res: post.dh_res };
    if (post.grad_post) f.grad_post = post.grad_post;
    if (acc) f.acc = acc;
    dqs.forEach((t, j) => (f[`dq_${j}`] = t));
    const out = await s.run(pick(s, f));
    this.free([...dqs, dk, dv, post.dh_res, post.grad_post]);
    return { dh: out.dh, grad: out.grad };
  }
}
