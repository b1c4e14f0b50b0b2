// Resumable downloads from the Hub mock (e2e/hub-server.ts), which redirects weight files to a second
// origin as the real Hub does: a connection dropped mid-file is resumed with a Range request, an earlier
// partial file is continued, a server that ignores ranges restarts from zero; the stored bytes are exact.
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHubServer, type HubServer } from '../../../e2e/hub-server';
import { UserError } from '../errors';
import { download } from './download';
import { hubSource } from './source';
import { fileSink } from './source_node';

const REPO = 'org/model';
const content = new Uint8Array(1_000_000).map((_, i) => (i * 7919 + (i >> 10)) % 251);
let dir = '';
let hub: HubServer;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'download-test-'));
  await mkdir(join(dir, 'repo'));
  await writeFile(join(dir, 'repo', 'model.safetensors'), content);
  await writeFile(join(dir, 'repo', 'weights.raw'), content);
  hub = await startHubServer({
    port: 0,
    repos: { [REPO]: join(dir, 'repo') },
    dropOnce: [{ repo: REPO, file: 'model.safetensors', after: 300_000 }],
  });
});
afterAll(async () => {
  await hub?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const source = () => hubSource({ repo: REPO, endpoint: hub.url });

describe('download', () => {
  it('resumes a dropped connection with a Range request on the CDN and stores the exact bytes', async () => {
    const out = join(dir, 'a.safetensors');
    const sink = fileSink(out);
    const progress: [number, number][] = [];
    const size = await download(source(), 'model.safetensors', sink, {
      onProgress: (l, t) => progress.push([l, t]),
    });
    await sink.close();
    expect(size).toBe(content.length);
    expect(Buffer.compare(await readFile(out), content)).toBe(0);
    const cdn = hub.log.filter((r) => r.origin === 'cdn' && r.path.endsWith('/model.safetensors'));
    expect(cdn[0]).toMatchObject({ method: 'GET', status: -1 }); // cut after 300 000 bytes
    expect(cdn[0].range).toBeUndefined();
    expect(cdn.at(-1)).toMatchObject({ method: 'GET', status: 206, range: 'bytes=300000-' });
    const hubHits = hub.log.filter((r) => r.origin === 'hub' && r.path.endsWith('/model.safetensors'));
    expect(hubHits.every((r) => r.status === 302)).toBe(true);
    expect(progress.at(-1)).toEqual([content.length, content.length]);
  });

  it('continues a partial file left by an earlier download', async () => {
    const out = join(dir, 'b.safetensors');
    await writeFile(out, content.subarray(0, 123_456));
    const sink = fileSink(out);
    const before = hub.log.length;
    await download(source(), 'model.safetensors', sink);
    await sink.close();
    expect(Buffer.compare(await readFile(out), content)).toBe(0);
    const cdn = hub.log.slice(before).filter((r) => r.origin === 'cdn');
    expect(cdn).toEqual([expect.objectContaining({ status: 206, range: 'bytes=123456-' })]);
    // Already complete: one request that the server answers 416, nothing rewritten.
    const again = fileSink(out);
    expect(await download(source(), 'model.safetensors', again)).toBe(content.length);
    await again.close();
    expect(Buffer.compare(await readFile(out), content)).toBe(0);
  });

  it('starts again from zero when the server ignores the range', async () => {
    const out = join(dir, 'c.raw');
    await writeFile(out, new Uint8Array(5000).fill(9)); // not this file's bytes
    const sink = fileSink(out);
    await download(source(), 'weights.raw', sink); // served by the Hub origin itself, without ranges
    await sink.close();
    expect(Buffer.compare(await readFile(out), content)).toBe(0);
  });

  it('names the file when it is missing', async () => {
    const sink = fileSink(join(dir, 'd.bin'));
    const e = await download(source(), 'missing.safetensors', sink).catch((x: unknown) => x);
    await sink.close();
    expect(e).toBeInstanceOf(UserError);
    expect((e as Error).message).toContain('missing.safetensors not found');
  });
});
