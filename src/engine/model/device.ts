// A base model resident on one runtime's device: weights uploaded once and shared by every session that
// uses them (training, evaluation, generation), plus rotary tables per length.
import type { RtTensor, Runtime } from '../runtime/types';
import type { ModelConfig } from './config';
import { ropeTables } from './rope';
import { partName, splitRows } from './vocab';

export interface BaseModel {
  config: ModelConfig;
  weights: Map<string, { shape: number[]; data: Float32Array }>;
}

export class DeviceModel {
  private weights = new Map<string, RtTensor>();
  private rope = new Map<number, Promise<{ cos: RtTensor; sin: RtTensor }>>();
  readonly shapes: Map<string, number[]>;

  private constructor(
    readonly rt: Runtime,
    readonly model: BaseModel,
  ) {
    this.shapes = new Map([...model.weights].map(([k, w]) => [k, w.shape]));
  }

  get config(): ModelConfig {
    return this.model.config;
  }

  /**
   * Uploads every weight once. A vocabulary matrix larger than `maxTensorBytes` (default: the device's
   * largest storage binding) is split by rows into `name#k` parts, which the graph builders handle.
   */
  static async upload(
    rt: Runtime,
    model: BaseModel,
    opts: { maxTensorBytes?: number } = {},
  ): Promise<DeviceModel> {
    const d = new DeviceModel(rt, model);
    const limit = opts.maxTensorBytes ?? rt.info.maxStorageBufferBindingSize ?? Infinity;
    d.shapes.clear();
    for (const [name, w] of model.weights) {
      const vocab = name === 'model.embed_tokens.weight' || name === 'lm_head.weight';
      const parts = vocab && w.data.byteLength > limit ? splitRows(w.shape[0], w.shape[1], limit) : null;
      if (!parts) {
        d.shapes.set(name, w.shape);
        d.weights.set(name, await rt.upload('float32', w.data, w.shape));
        continue;
      }
      for (const [k, p] of parts.entries()) {
        const shape = [p.rows, w.shape[1]];
        const data = w.data.subarray(p.offset * w.shape[1], (p.offset + p.rows) * w.shape[1]);
        d.shapes.set(partName(name, k), shape);
        d.weights.set(partName(name, k), await rt.upload('float32', data, shape));
      }
    }
    return d;
  }

  /** Feeds for every base weight input. */
  feedWeights(feeds: Record<string, RtTensor>): void {
    for (const [k, v] of this.weights) feeds[k] = v;
  }

  /** cos/sin tables of `n` positions, (n, head_dim), uploaded once per size. */
  ropeTables(n: number): Promise<{ cos: RtTensor; sin: RtTensor }> {
    let r = this.rope.get(n);
    if (!r) {
      const { cos, sin } = ropeTables(this.config, n);
      const hd = this.config.head_dim;
      r = Promise.all([
        this.rt.upload('float32', cos, [n, hd]),
        this.rt.upload('float32', sin, [n, hd]),
      ]).then(([c, s]) => ({ cos: c, sin: s }));
      this.rope.set(n, r);
    }
    return r;
  }

  async dispose(): Promise<void> {
    for (const t of this.weights.values()) this.rt.dispose(t);
    for (const r of this.rope.values()) {
      const { cos, sin } = await r;
      this.rt.dispose(cos);
      this.rt.dispose(sin);
    }
    this.weights.clear();
    this.rope.clear();
  }
}
