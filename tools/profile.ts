// `bench --profile`: where the time of one training step and one decoded token goes, from onnxruntime's session
// profiling. On the native WebGPU EP each compute dispatch is an event with its GPU time (timestamp queries,
// where the device has `timestamp-query`); without them only the host-side time per node is known. Events
// are grouped by op type and by kernel, for the runs tagged with a phase. onnxruntime-web prints the profile
// as JSON on stdout (fs.writeSync from a wasm worker thread) when a session's profiling ends: caught there.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CPU_PROFILE_PREFIX } from '../src/engine/runtime/node_node';
import { dispatches } from '../src/engine/runtime/gpu-counters';
import type { Runtime, Session } from '../src/engine/runtime/types';

interface OrtEvent {
  cat: string;
  name: string;
  ts: number;
  dur: number;
  args?: Record<string, unknown>;
}

export interface PhaseProfile {
  phase: string;
  runs: number;
  /** compute dispatches counted on the device (gpu-counters) during the tagged runs */
  dispatches: number;
  /** per-kernel GPU times from timestamp queries (false: host-side node times only) */
  gpu_timestamps: boolean;
  /** kernels that onnxruntime timed (one per dispatch) */
  kernels: number;
  gpu_ms: number;
  /** host time spent in onnxruntime's node kernels (WebGPU: encoding the dispatches) */
  host_ms: number;
  by_op: { op: string; kernels: number; gpu_ms: number; host_ms: number }[];
  top_kernels: { name: string; op: string; gpu_ms: number; shapes?: string }[];
}

interface Tracked {
  session?: Session;
  /** the phase of each run, in order ('' = not measured) */
  phases: string[];
}

/**
 * Profiles every session that `rt` creates from now on (graph-captured ones excepted: capture replays
 * dispatches that onnxruntime no longer times). Tag runs with setPhase(); report() ends profiling.
 */
export function profileSessions(rt: Runtime) {
  const tracked: Tracked[] = [];
  const create = rt.createSession.bind(rt);
  let phase = '';
  const counted = new Map<string, number>();
  (rt as { createSession: Runtime['createSession'] }).createSession = async (model, opts = {}) => {
    const session = await create(model, opts.graphCapture ? opts : { ...opts, profile: true });
    if (opts.graphCapture) return session;
    const t: Tracked = { session, phases: [] };
    tracked.push(t);
    const run = session.run.bind(session);
    return {
      ...session,
      inputNames: session.inputNames,
      outputNames: session.outputNames,
      release: () => session.release(),
      run: async (feeds) => {
        const p = phase;
        t.phases.push(p);
        const d0 = dispatches();
        const out = await run(feeds);
        if (p) counted.set(p, (counted.get(p) ?? 0) + dispatches() - d0);
        return out;
      },
    };
  };
  return {
    setPhase(p: string) {
      phase = p;
    },
    /**
     * Ends profiling of every tracked session, disposes what owns them (`dispose`: the trainer or generator)
     * and sums the tagged runs. onnxruntime-web emits a profile before its session is released,
     * onnxruntime-node (`cpu`) only once the session is gone: `dispose` runs after or before reading.
     */
    async report(dispose: () => Promise<void>): Promise<PhaseProfile[]> {
      (rt as { createSession: Runtime['createSession'] }).createSession = create;
      const byPhase = new Map<string, { runs: number; events: OrtEvent[] }>();
      const cpu = rt.info.backend === 'cpu';
      if (cpu) await dispose();
      const cpuFiles = cpu ? await releaseForFiles(tracked) : undefined;
      for (const [i, t] of tracked.entries()) {
        if (!t.phases.some(Boolean)) continue;
        const events = cpuFiles ? cpuFiles[i] : await captureProfile(t.session!);
        // the i-th model_run window holds the i-th run's node and kernel events
        const runs = events
          .filter((e) => e.cat === 'Session' && e.name === 'model_run')
          .sort((a, b) => a.ts - b.ts);
        runs.forEach((r, i) => {
          const p = t.phases[i];
          if (!p) return;
          const acc = byPhase.get(p) ?? { runs: 0, events: [] };
          acc.runs++;
          for (const e of events)
            if ((e.cat === 'Api' || e.cat === 'Node') && e.ts >= r.ts && e.ts <= r.ts + r.dur)
              acc.events.push(e);
          byPhase.set(p, acc);
        });
      }
      if (!cpu) await dispose();
      return [...byPhase].map(([p, { runs, events }]) => summarise(p, runs, counted.get(p) ?? 0, events));
    },
  };
}

/**
 * onnxruntime-node (`cpu`) writes a session's profile only when V8 collects the native session: releases the
 * tracked sessions, drops them and collects garbage (node --expose-gc) until each has written its file. Nothing
 * else may hold them (report() disposes their owner first). Files are read in the
 * order the sessions were created (their names hold the creation time) and removed.
 */
async function releaseForFiles(tracked: Tracked[]): Promise<OrtEvent[][]> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('bench --profile on the cpu backend needs node --expose-gc');
  const prefix = `${CPU_PROFILE_PREFIX}${process.pid}-`;
  const files = () => fs.readdirSync(os.tmpdir()).filter((f) => f.startsWith(prefix));
  for (const t of tracked) {
    await t.session?.release();
    t.session = undefined;
  }
  let written = files();
  for (let i = 0; i < 250 && written.length < tracked.length; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 20));
    written = files();
  }
  if (written.length !== tracked.length)
    throw new Error(`profile: ${written.length} of ${tracked.length} sessions wrote their file`);
  return written.sort().map((f) => {
    const file = path.join(os.tmpdir(), f);
    const events = JSON.parse(fs.readFileSync(file, 'utf8')) as OrtEvent[];
    fs.rmSync(file);
    return events;
  });
}

/** Runs endProfiling and parses the JSON array onnxruntime-web prints to stdout meanwhile. */
async function captureProfile(session: Session): Promise<OrtEvent[]> {
  if (!session.endProfiling) return [];
  const chunks: string[] = [];
  // ORT's wasm writes it with fs.writeSync(1, …) (from one of its worker threads, so a little later)
  const fsw = fs as unknown as { writeSync: (fd: number, data: unknown, ...rest: unknown[]) => number };
  const writeSync = fsw.writeSync;
  fsw.writeSync = (fd, data, ...rest) => {
    if (fd !== 1) return writeSync(fd, data, ...rest);
    const text = typeof data === 'string' ? data : Buffer.from(data as Uint8Array).toString('utf8');
    chunks.push(text);
    return Buffer.byteLength(text);
  };
  const done = () => /^\[$[\s\S]*^\]$/m.test(chunks.join(''));
  try {
    await session.endProfiling();
    for (let t = 0; t < 600 && !done(); t++) await new Promise((r) => setTimeout(r, 50));
  } finally {
    fsw.writeSync = writeSync;
  }
  const text = chunks.join('');
  const start = text.indexOf('[\n');
  const end = text.lastIndexOf(']');
  if (start < 0 || end < start) return [];
  try {
    return JSON.parse(text.slice(start, end + 1)) as OrtEvent[];
  } catch {
    return [];
  }
}

// onnxruntime's events are in µs, kernels' GPU times too (H200/Vulkan: a step's kernels add up to ~its time;
// SwiftShader's timestamps are far off: use them only to count)
const ms = (us: number) => Math.round(us) / 1000;
const gpuMs = ms;

function summarise(phase: string, runs: number, counted: number, events: OrtEvent[]): PhaseProfile {
  const api = events.filter((e) => e.cat === 'Api'); // GPU kernels: name = node&op&kernel
  const nodes = events.filter((e) => e.cat === 'Node' && e.name.endsWith('_kernel_time'));
  const ops = new Map<string, { kernels: number; gpu: number; host: number }>();
  const op = (name: string) => {
    let o = ops.get(name);
    if (!o) ops.set(name, (o = { kernels: 0, gpu: 0, host: 0 }));
    return o;
  };
  for (const e of api) {
    const o = op(e.name.split('&')[1] ?? e.name);
    o.kernels++;
    o.gpu += e.dur;
  }
  for (const e of nodes) {
    const o = op(String(e.args?.op_name ?? e.name.split('_')[0]));
    o.host += e.dur;
    if (!api.length) o.kernels++; // CPU: one kernel per node
  }
  // the slowest kernels: by GPU time, or (CPU, no GPU events) by node time
  const kernels = new Map<string, { op: string; gpu: number; shapes?: string }>();
  const timed = api.length
    ? api.map((e) => ({ e, node: e.name.split('&')[0], op: e.name.split('&')[1], shapes: e.args?.shapes }))
    : nodes.map((e) => ({ e, node: e.name, op: e.args?.op_name, shapes: e.args?.input_type_shape }));
  for (const { e, node, op: type, shapes } of timed) {
    const s = typeof shapes === 'string' || shapes === undefined ? shapes : JSON.stringify(shapes);
    const k = kernels.get(node) ?? { op: String(type), gpu: 0, shapes: s };
    k.gpu += e.dur;
    kernels.set(node, k);
  }
  const per = (x: number) => x / Math.max(runs, 1);
  return {
    phase,
    runs,
    dispatches: per(counted),
    gpu_timestamps: api.length > 0,
    kernels: per(api.length || nodes.length),
    gpu_ms: gpuMs(per(api.reduce((a, e) => a + e.dur, 0))),
    host_ms: ms(per(nodes.reduce((a, e) => a + e.dur, 0))),
    by_op: [...ops]
      .map(([name, o]) => ({
        op: name,
        kernels: per(o.kernels),
        gpu_ms: gpuMs(per(o.gpu)),
        host_ms: ms(per(o.host)),
      }))
      .sort((a, b) => b.gpu_ms - a.gpu_ms || b.host_ms - a.host_ms),
    top_kernels: [...kernels]
      .sort((a, b) => b[1].gpu - a[1].gpu)
      .slice(0, 15)
      .map(([name, k]) => ({ name, op: k.op, gpu_ms: gpuMs(per(k.gpu)), shapes: k.shapes })),
  };
}
