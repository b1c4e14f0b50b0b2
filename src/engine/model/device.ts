// A base model resident on one runtime's device: weights uploaded once and shared by every session that
// uses them (training, evaluation, generation), plus rotary tables per length. Weights come from a map in
// memory or a stream read tensor by tensor (weights.ts's ModelReader); the device model keeps no host copy.
import type { RtTensor, Runtime } from '../runtime/types';
import type { ModelConfig } from './config';
import { ropeTables } from './rope';
import { partName, splitRows } from './vocab';
import { f32ArrayToF16 } from '../io/dtype';
import { storedDtype, type WeightStorage } from './weight-inputs';

export interface BaseModel {
  config: ModelConfig;
  weights: Map<string, { shape: number[]; data: Float32Array }>;
}

/** Weights read one tensor at a time: each is uploaded, then dropped (on WebGPU nothing stays on the host). */
export interface WeightStream {
  config: ModelConfig;
  tensors(): AsyncIterable<[string, { shape: number[]; data: Float32Array }]>;
}

export class DeviceModel {
  private weights = new Map<string, RtTensor>();
  private rope = new Map<number, Promise<{ cos: RtTensor; sin: RtTensor }>>();
  /** dtype of the base weights on the device; graphs cast float16 to float32 where they read it */
  storage: WeightStorage = 'float32';

  readonly shapes = new Map<string, number[]>();

  private constructor(
    readonly rt: Runtime,
    readonly config: ModelConfig,
  ) {}

  /**
   * Uploads every weight once. A vocabulary matrix larger than `maxTensorBytes` (default: the device's
   * largest storage binding) is split by rows into `name#k` parts, which the graph builders handle.
   */
  static async upload(
    rt: Runtime,
    model: BaseModel | WeightStream,
    opts: { maxTensorBytes?: number; storage?: WeightStorage } = {},
  ): Promise<DeviceModel> {
    const d = new DeviceModel(rt, model.config);
    const storage = (d.storage = opts.storage ?? 'float32');
    const limit = opts.maxTensorBytes ?? rt.info.maxStorageBufferBindingSize ?? Infinity;
    const put = (name: string, data: Float32Array, shape: number[]) =>
      storedDtype(name, storage) === 'float16'
        ? rt.upload('float16', f32ArrayToF16(data), shape)
        : rt.upload('float32', data, shape);
    for await (const [name, w] of 'weights' in model ? model.weights : model.tensors()) {
      const vocab = name === 'model.embed_tokens.weight' || name === 'lm_head.weight';
      const parts = vocab && w.data.byteLength > limit ? splitRows(w.shape[0], w.shape[1], limit) : null;
      if (!parts) {
        d.shapes.set(name, w.shape);
        d.weights.set(name, await put(name, w.data, w.shape));
        continue;
      }
      for (const [k, p] of parts.entries()) {
        const shape = [p.rows, w.shape[1]];
        const data = w.data.subarray(p.offset * w.shape[1], (p.offset + p.rows) * w.shape[1]);
        d.shapes.set(partName(name, k), shape);
        d.weights.set(partName(name, k), await put(name, data, shape));
      }
    }
    return d;
  }

  /** Feeds for every base weight input, or for the given names only. */
  feedWeights(feeds: Record<string, RtTensor>, names?: Iterable<string>): void {
    if (!names) for (const [k, v] of this.weights) feeds[k] = v;
    else for (const k of names) feeds[k] = this.weights.get(k)!;
  }

  /** Feeds for one decoder layer's weights under their names inside the layer (`self_attn.q_proj.weight`…). */
  feedLayer(feeds: Record<string, RtTensor>, layer: number, names: Iterable<string>): void {
    for (const k of names) feeds[k] = this.weights.get(`model.layers.${layer}.${k}`)!;
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
