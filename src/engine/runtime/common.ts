// Runtime over any onnxruntime JS binding (onnxruntime-node, onnxruntime-web): one queue for all session work
// (ORT runs are not re-entrant), tensors that know their runtime, GPU upload/read/dispose through webgpu.ts.
// Shared by node.node.ts and web.ts so the Node tests cover the browser path. Only type imports of ORT here.
import type { InferenceSession as OrtSession, Tensor as OrtTensor } from 'onnxruntime-common';
import { DeviceLostError, type DeviceLostInfo } from './lost';
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
    /** The session whose run allocated this GPU output (onnxruntime frees it through that session). */
    readonly from?: SessionOutputs,
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

/**
 * GPU outputs a session allocated and that are still alive. onnxruntime frees such an output through its
 * session's allocator: disposed after the session's release, its buffer was never freed (measured: a trainer's
 * LoRA state, 3 buffers per run). So a released session really goes only once its last output is disposed.
 */
class SessionOutputs {
  readonly alive = new Set<Tensor>();
  closing?: () => Promise<void>;
  /** After `t` was freed: finishes a pending release once nothing is left. */
  async freed(t: Tensor) {
    this.alive.delete(t);
    if (this.closing && this.alive.size === 0) await this.closing();
  }
}

export function createOrtRuntime(cfg: OrtRuntimeConfig): Runtime {
  const { ort, device } = cfg;
  const backend = cfg.info.backend;
  const queue = new Queue();
  /** Each open session's release; `now` releases it even with outputs alive (the runtime goes). */
  const releases = new Set<(now?: boolean) => Promise<void>>();
  const owner = {};
  let released = false;
  let lostInfo: DeviceLostInfo | undefined;
  // GPUDevice.lost resolves once, on a reset or destroy(); cpu/wasm runtimes are never lost
  const lost: Promise<DeviceLostInfo> = device?.lost
    ? device.lost.then(
        (i) => (lostInfo = { reason: String(i?.reason ?? 'unknown'), message: i?.message ?? '' }),
      )
    : new Promise(() => undefined);
  // Work in flight when the device goes is let finish (ORT's wasm must not be re-entered while a run of it is
  // suspended), then reported as the loss, whatever it returned.
  const orLost = async <T>(p: Promise<T>): Promise<T> => {
    try {
      const v = await p;
      if (lostInfo) throw new DeviceLostError(lostInfo);
      return v;
    } catch (e) {
      if (lostInfo || (device?.lost && (await settledLost()))) throw new DeviceLostError(lostInfo!);
      throw e;
    }
  };
  // a failure caused by the loss may come before `lost` resolves: give it a moment to tell
  const settledLost = () =>
    Promise.race([lost.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 100))]);

  const alive = () => {
    if (lostInfo) throw new DeviceLostError(lostInfo);
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
    const s = await queue.run(() => {
      alive();
      const so = cfg.sessionOptions(o);
      return orLost(ort.InferenceSession.create(model, o.profile ? { ...so, enableProfiling: true } : so));
    });
    const keep = new Set(device ? o.keepOnDevice : []);
    const bad = (o.keepOnDevice ?? []).filter((k) => !s.outputNames.includes(k));
    if (bad.length) {
      await queue.run(() => s.release());
      throw new Error(`keepOnDevice: no output named ${bad.join(', ')}`);
    }
    const captured = o.graphCapture ? new CapturedIo(ort, device!, new Set(o.captureSlots)) : undefined;
    let open = true;
    const outputs = new SessionOutputs();
    const release = async (now = false) => {
      if (!open) return now ? outputs.closing?.() : undefined;
      open = false;
      captured?.release();
      const close = async () => {
        outputs.closing = undefined;
        releases.delete(release);
        await s.release();
      };
      if (outputs.alive.size === 0 || now) await close();
      else outputs.closing = close; // when the last output is disposed (SessionOutputs)
    };
    releases.add(release);
    return {
      inputNames: s.inputNames,
      outputNames: s.outputNames,
      run: (feeds, into = {}) => {
        // Feeds are checked when run() is called; a dispose() issued later frees only after this run.
        let f: Record<string, OrtTensor> = {};
        const given: Record<string, OrtTensor> = {};
        try {
          for (const [k, t] of Object.entries(feeds)) f[k] = own(t, `input ${k}`).ort;
          for (const [k, t] of Object.entries(into)) {
            if (!s.outputNames.includes(k)) throw new Error(`into: no output named ${k}`);
            given[k] = own(t, `output ${k}`).ort;
          }
        } catch (e) {
          return Promise.reject(e);
        }
        // every output by name: the caller's tensor, or null (onnxruntime allocates it)
        const fetches = Object.keys(given).length
          ? Object.fromEntries(s.outputNames.map((k) => [k, given[k] ?? null]))
          : undefined;
        return queue.run(async () => {
          alive();
          if (!open) throw new Error('session already released');
          if (captured) f = captured.feed(f, given);
          const ran = fetches ? s.run(f, fetches as OrtSession.FetchesType) : s.run(f);
          let out = (await orLost(ran)) as Record<string, OrtTensor>;
          for (const k of Object.keys(given)) delete out[k];
          if (captured) out = await orLost(captured.collect(out, keep));
          const res: Record<string, RtTensor> = { ...into };
          for (const [k, v] of Object.entries(out)) {
            const onGpu = v.location === 'gpu-buffer' && !captured; // captured outputs are our own buffers
            res[k] = new Tensor(v, owner, onGpu ? outputs : undefined);
            if (onGpu) outputs.alive.add(res[k] as Tensor);
          }
          return res;
        });
      },
      release: () => queue.run(() => release()),
      endProfiling: () => queue.run(async () => s.endProfiling()), // onnxruntime-web's returns a promise
    };
  }

  const runtime: Runtime = {
    info: cfg.info,
    lost,
    createSession,
    ...(device ? { loseDevice: () => device.destroy() } : {}),

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
      return queue.run(() => {
        alive();
        return orLost(downloadTensor(device!, x.ort));
      });
    },

    dispose(t) {
      if (!(t instanceof Tensor) || t.disposed) return;
      t.disposed = true;
      // After the work already queued (a pending run may still read this buffer).
      if (t.location === 'gpu')
        void queue
          .run(async () => {
            t.ort.dispose();
            await t.from?.freed(t);
          })
          .catch(() => undefined);
    },

    idle: () => queue.run(async () => undefined),

    release: () =>
      queue.run(async () => {
        if (released) return;
        released = true;
        // after a loss ORT's sessions still hold host memory: release them, whatever the dead device says
        for (const r of [...releases]) await r(true).catch((e) => (lostInfo ? undefined : Promise.reject(e)));
        await cfg.onRelease?.();
      }),
  };
  return runtime;
}
