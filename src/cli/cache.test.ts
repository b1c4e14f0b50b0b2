// The CLI's disk cache of Hub files, against the Hub mock (weights redirected to its CDN origin): a model
// loads through it with the download cut once mid-file and resumed by a Range request, the cached file is
// exact, a leftover `.part` from an earlier run is continued, and a second load downloads nothing.
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHubServer, type HubServer } from '../../e2e/hub-server';
import { hubSource } from '../engine/io/source';
import { dirSource } from '../engine/io/source_node';
import { loadModel } from '../engine/model/weights';
import { cachedSource } from './cache';

const REPO = 'org/tiny-llama';
const MODEL = 'tests/fixtures/golden/llama/model';
let tmp = '';
let hub: HubServer;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'cli-cache-'));
  hub = await startHubServer({
    port: 0,
    repos: { [REPO]: MODEL },
    dropOnce: [{ repo: REPO, file: 'model.safetensors', after: 50_000 }],
  });
});
afterAll(async () => {
  await hub?.close();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

const cached = (dir: string) => cachedSource(hubSource({ repo: REPO, endpoint: hub.url }), dir);

describe('the CLI Hub cache', () => {
  it('loads a model whose download was cut mid-file, resuming it with a Range request', async () => {
    const dir = join(tmp, 'a');
    const progress: number[] = [];
    const m = await loadModel(cached(dir), (l) => progress.push(l));
    const want = await loadModel(dirSource(MODEL));
    expect(m.weights).toEqual(want.weights);
    const file = await readFile(join(dir, 'model.safetensors'));
    expect(Buffer.compare(file, await readFile(join(MODEL, 'model.safetensors')))).toBe(0);
    const cdn = hub.log.filter((r) => r.origin === 'cdn' && r.method === 'GET');
    expect(cdn.map((r) => r.status)).toEqual([-1, 206]);
    expect(cdn[1].range).toMatch(/^bytes=[1-9]\d*-$/);
    expect(progress.at(-1)).toBe(file.length);

    const before = hub.log.length;
    const again = await loadModel(cached(dir));
    expect(again.weights).toEqual(want.weights);
    // nothing downloaded again (only HEADs asking whether optional files exist)
    expect(hub.log.slice(before).filter((r) => r.method !== 'HEAD')).toEqual([]);
  });

  it('continues a .part file left by an earlier run', async () => {
    const dir = join(tmp, 'b');
    await mkdir(dir, { recursive: true });
    const whole = await readFile(join(MODEL, 'model.safetensors'));
    await writeFile(join(dir, 'model.safetensors.part'), whole.subarray(0, 70_000));
    const before = hub.log.length;
    await loadModel(cached(dir));
    expect(Buffer.compare(await readFile(join(dir, 'model.safetensors')), whole)).toBe(0);
    const gets = hub.log.slice(before).filter((r) => r.origin === 'cdn' && r.method === 'GET');
    expect(gets).toEqual([expect.objectContaining({ status: 206, range: 'bytes=70000-' })]);
  });
});
