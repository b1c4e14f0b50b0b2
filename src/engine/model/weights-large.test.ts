// Weights loaded tensor by tensor from disk: a single safetensors file over 4 GiB (sparse, so cheap on
// disk) whose real tensors sit past the 4 GiB mark, and a BF16 model whose loading process peaks near the
// float32 size (the BF16 bytes of one tensor at a time, never the whole file beside its float32 copy).
import { execFile } from 'node:child_process';
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { bf16ToF32 } from '../io/dtype';
import { dirSource } from '../io/source_node';
import { parseConfig } from './config';
import { expectedWeights, loadModel } from './weights';

const dirs: string[] = [];
afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));
const tempDir = async () => {
  const d = await mkdtemp(join(tmpdir(), 'weights-large-'));
  dirs.push(d);
  return d;
};

type Dtype = 'F32' | 'BF16';
interface Planned {
  name: string;
  dtype: Dtype;
  shape: number[];
  begin: number;
  end: number;
}

/**
 * Writes a safetensors file tensor by tensor: `before` bytes of an unused tensor first (left sparse: the
 * file is only truncated to its length), then each tensor's data from `fill`.
 */
async function writeLarge(
  path: string,
  tensors: { name: string; dtype: Dtype; shape: number[] }[],
  fill: (t: Planned) => Uint8Array,
  before = 0,
): Promise<number> {
  const planned: Planned[] = [];
  let pos = before;
  for (const t of tensors) {
    const n = t.shape.reduce((a, b) => a * b, 1) * (t.dtype === 'F32' ? 4 : 2);
    planned.push({ ...t, begin: pos, end: pos + n });
    pos += n;
  }
  const header: Record<string, unknown> = {};
  if (before > 0) header['unused.padding'] = { dtype: 'U8', shape: [before], data_offsets: [0, before] };
  for (const t of planned)
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [t.begin, t.end] };
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const start = 8 + json.length;
  const f = await open(path, 'w');
  try {
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(json.length));
    await f.write(len, 0, 8, 0);
    await f.write(Buffer.from(json), 0, json.length, 8);
    await f.truncate(start + pos);
    for (const t of planned) {
      const data = fill(t);
      await f.write(data, 0, data.length, start + t.begin);
    }
  } finally {
    await f.close();
  }
  return start + pos;
}

const TINY = {
  model_type: 'llama',
  hidden_size: 8,
  intermediate_size: 12,
  num_hidden_layers: 1,
  num_attention_heads: 2,
  num_key_value_heads: 1,
  vocab_size: 16,
};

describe('a single safetensors file over 4 GiB', () => {
  it('loads the tensors that lie past 4 GiB, reading only their byte ranges', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'config.json'), JSON.stringify(TINY));
    const shapes = expectedWeights(parseConfig(TINY));
    const tensors = [...shapes].map(([name, shape]) => ({ name, dtype: 'F32' as const, shape }));
    const valueOf = (name: string, i: number) => name.length + i * 0.25;
    const size = await writeLarge(
      join(dir, 'model.safetensors'),
      tensors,
      (t) => {
        const n = (t.end - t.begin) / 4;
        const v = Float32Array.from({ length: n }, (_, i) => valueOf(t.name, i));
        return new Uint8Array(v.buffer);
      },
      4_400_000_000,
    );
    expect(size).toBeGreaterThan(2 ** 32);

    const progress: [number, number][] = [];
    const m = await loadModel(dirSource(dir), (l, t) => progress.push([l, t]));
    expect([...m.weights.keys()]).toEqual([...shapes.keys()]);
    for (const [name, w] of m.weights) {
      expect(w.shape).toEqual(shapes.get(name));
      const want = Float32Array.from({ length: w.data.length }, (_, i) => valueOf(name, i));
      expect(Buffer.from(w.data.buffer, w.data.byteOffset, w.data.byteLength)).toEqual(
        Buffer.from(want.buffer),
      );
    }
    expect(progress.at(-1)).toEqual([size, size]);
  });
});

describe('a BF16 checkpoint', () => {
  it('is never held as BF16 and float32 at once: the loading process peaks near the float32 size', async () => {
    const dir = await tempDir();
    const config = {
      model_type: 'llama',
      hidden_size: 1024,
      intermediate_size: 2816,
      num_hidden_layers: 6,
      num_attention_heads: 16,
      num_key_value_heads: 16,
      vocab_size: 32000,
      tie_word_embeddings: false,
    };
    await writeFile(join(dir, 'config.json'), JSON.stringify(config));
    const shapes = expectedWeights(parseConfig(config));
    const tensors = [...shapes].map(([name, shape]) => ({ name, dtype: 'BF16' as const, shape }));
    let params = 0;
    await writeLarge(join(dir, 'model.safetensors'), tensors, (t) => {
      const n = (t.end - t.begin) / 2;
      params += n;
      // bf16 patterns of small values, repeating every 1024 elements
      const v = new Uint16Array(n);
      for (let i = 0; i < Math.min(n, 1024); i++) v[i] = 0x3c00 + i;
      for (let have = 1024; have < n; have *= 2) v.copyWithin(have, 0, Math.min(have, n - have));
      return new Uint8Array(v.buffer);
    });
    const f32Mb = (params * 4) / 2 ** 20;
    const bf16Mb = f32Mb / 2;

    // A fresh process, so its peak RSS is this load alone.
    const script = join(dir, 'load.mts');
    const weights = resolve(__dirname, 'weights.ts');
    const source = resolve(__dirname, '../io/source_node.ts');
    await writeFile(
      script,
      `import { loadModel } from ${JSON.stringify(weights)};
import { dirSource } from ${JSON.stringify(source)};
const base = process.memoryUsage().rss;
const m = await loadModel(dirSource(${JSON.stringify(dir)}));
const w = m.weights.get('model.layers.5.mlp.down_proj.weight').data;
console.log(JSON.stringify({ baseMb: base / 2 ** 20, peakMb: process.resourceUsage().maxRSS / 1024,
  n: m.weights.size, last: [w[0], w[1023], w[1024]] }));`,
    );
    const tsx = resolve(__dirname, '../../../node_modules/.bin/tsx');
    const { stdout } = await promisify(execFile)(tsx, [script], { maxBuffer: 1 << 20 });
    const r = JSON.parse(stdout.trim().split('\n').at(-1)!);
    expect(r.n).toBe(shapes.size);
    expect(r.last).toEqual([bf16ToF32(0x3c00), bf16ToF32(0x3c00 + 1023), bf16ToF32(0x3c00)]);
    const grew = r.peakMb - r.baseMb;
    console.log(
      `BF16 load: float32 ${f32Mb.toFixed(0)} MB, BF16 ${bf16Mb.toFixed(0)} MB, peak RSS grew ${grew.toFixed(0)} MB`,
    );
    expect(grew).toBeGreaterThan(f32Mb * 0.95); // the float32 weights are all there
    expect(grew).toBeLessThan(f32Mb + bf16Mb * 0.6); // and not the BF16 file beside them
  }, 120_000);
});
