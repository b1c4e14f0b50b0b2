// Runtime over any onnxruntime JS binding (onnxruntime-node, onnxruntime-web): one queue for all session work
// (ORT runs are not re-entrant), tensors that know their runtime, GPU upload/read/dispose through webgpu.ts.
// Shared by node.node.ts and web.ts so the Node tests cover the browser path. Only type imports of ORT here.
import type { InferenceSession as OrtSession, Tensor as OrtTensor } from 'onnxruntime-common';
import type { DType, DeviceInfo, RtTensor, Runtime, Session, SessionOptions, TensorData } from './types';
import { CapturedIo, downloadTensor, uploadTensor, type GpuDevice } from './webgpu';

/** The part of an onnxruntime module used here (onnxruntime-node and onnxruntime-web both fit). */
export interface OrtModule {
  InferenceSession: { create(model: Uint8Array, options?: OrtSession.SessionOptions): Promise<OrtSession> };
  Tensor: typeof OrtTensor;
}

export interface OrtRuntimeConfig {
  ort: OrtModule;
  info: DeviceInfo;
  /** The WebGPU device ORT runs on (webgpu backend only). */
  device?: GpuDevice;
  /** Default for SessionOptions.strict. */
  strict?: boolean;
  /** Backend-specific ORT session options (execution providers, threads, output locations). */
  sessionOptions(opts: SessionOptions): OrtSession.SessionOptions;
  /** Called once, after every session is released. */
  onRelease?(): void | Promise<void>;
}

/** Serialises async work: ORT session creation, runs and GPU reads never overlap. */
export class Queue {
  private tail: Promise<unknown> = Promise.resolve();
  run<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.tail.then(fn);
    this.tail = p.catch(() => undefined);
    return p;
  }
}

class Tensor implements RtTensor {
  disposed = false;
  constructor(
    readonly ort: OrtTensor,
    readonly owner: object,
  ) {}
  get dtype(): DType {
    return this.ort.type as DType;
  }
  get dims(): readonly number[] {
    return this.ort.dims;
  }
  get location(): 'cpu' | 'gpu' {
    return this.ort.location === 'gpu-buffer' ? 'gpu' : 'cpu';
  }
}

export function createOrtRuntime(cfg: OrtRuntimeConfig): Runtime {
  const { ort, device } = cfg;
  const backend = cfg.info.backend;
  const queue = new Queue();
  const releases = new Set<() => Promise<void>>();
  const owner = {};
  let released = false;

  const alive = () => {
    if (released) throw new Error(`${backend} runtime already released`);
  };
  const own = (t: RtTensor, what: string): Tensor => {
    if (!(t instanceof Tensor)) throw new Error(`${what}: not a runtime tensor`);
    if (t.disposed) throw new Error(`${what}: tensor was disposed`);
    if (t.owner === owner) return t;
    // Host tensors move freely between runtimes (each onnxruntime has its own Tensor class); GPU ones cannot.
    if (t.location === 'gpu') throw new Error(`${what}: GPU tensor of another runtime`);
    return new Tensor(new ort.Tensor(t.dtype, t.ort.data as TensorData, t.dims), owner);
  };

  async function createSession(model: Uint8Array, opts: SessionOptions = {}): Promise<Session> {
    alive();
    const o = {
      ...opts,
      strict: opts.strict ?? cfg.strict ?? false,
      graphCapture: !!(opts.graphCapture && device),
    };
    const so = cfg.sessionOptions(o);
    const s = await queue.run(() =>
      ort.InferenceSession.create(model, o.profile ? { ...so, enableProfiling: true } : so),
    );
    const keep = new Set(device ? o.keepOnDevice : []);
    const bad = (o.keepOnDevice ?? []).filter((k) => !s.outputNames.includes(k));
    if (bad.length) {
      await queue.run(() => s.release());
      throw new Error(`keepOnDevice: no output named ${bad.join(', ')}`);
    }
    const captured = o.graphCapture ? new CapturedIo(ort, device!) : undefined;
    let open = true;
    const release = async () => {
      if (!open) return;
      open = false;
      releases.delete(release);
      captured?.release();
      await s.release();
    };
    releases.add(release);
    return {
      inputNames: s.inputNames,
      outputNames: s.outputNames,
      run: (feeds) => {
        // Feeds are checked when run() is called; a dispose() issued later frees only after this run.
        let f: Record<string, OrtTensor> = {};
        try {
          for (const [k, t] of Object.entries(feeds)) f[k] = own(t, `input ${k}`).ort;
        } catch (e) {
          return Promise.reject(e);
        }
        return queue.run(async () => {
          alive();
          if (!open) throw new Error('session already released');
          if (captured) f = captured.feed(f);
          let out = (await s.run(f)) as Record<string, OrtTensor>;
          if (captured) out = await captured.collect(out, keep);
          const res: Record<string, RtTensor> = {};
          for (const [k, v] of Object.entries(out)) res[k] = new Tensor(v, owner);
          return res;
        });
      },
      release: () => queue.run(release),
      endProfiling: () => queue.run(async () => s.endProfiling()), // onnxruntime-web's returns a promise
    };
  }

  const runtime: Runtime = {
    info: cfg.info,
    createSession,

    tensor(dtype, data, dims) {
      alive();
      return new Tensor(new ort.Tensor(dtype, data, dims), owner);
    },

    async upload(dtype, data, dims) {
      alive();
      // float64 has no WebGPU kernels: it stays a host tensor.
      if (!device || dtype === 'float64') return runtime.tensor(dtype, data, dims);
      return new Tensor(uploadTensor(ort, device, dtype, data, dims), owner);
    },

    async read(t) {
      const x = own(t, 'read');
      if (x.location === 'cpu') {
        const d = x.ort.data as TensorData;
        // Where Float16Array exists ORT hands float16 back as one; the engine speaks Uint16Array bits.
        return x.dtype === 'float16' && !(d instanceof Uint16Array)
          ? new Uint16Array(d.buffer, d.byteOffset, d.length)
          : d;
      }
      // Our own download: ORT's getData() would turn the tensor into a host tensor.
      return queue.run(() => downloadTensor(device!, x.ort));
    },

    dispose(t) {
      if (!(t instanceof Tensor) || t.disposed) return;
      t.disposed = true;
      // After the work already queued (a pending run may still read this buffer).
      if (t.location === 'gpu') void queue.run(async () => t.ort.dispose()).catch(() => undefined);
    },

    release: () =>
      queue.run(async () => {
        if (released) return;
        released = true;
        for (const r of [...releases]) await r();
        await cfg.onRelease?.();
      }),
  };
  return runtime;
}
