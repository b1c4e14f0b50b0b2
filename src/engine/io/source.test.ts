// File sources: hubSource against a local server with the Hub's URL layout (public, gated, missing,
// unreachable), memorySource, and dirSource over a temporary folder.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserError } from '../errors';
import { hubSource, memorySource } from './source';
import { dirSource } from './source_node';

const big = new Uint8Array(300_000).map((_, i) => i % 251);
/** Byte equality without a slow element-by-element deep compare. */
const same = (a: Uint8Array, b: Uint8Array) => Buffer.compare(a, b) === 0;
const seen: { url: string; method: string; auth?: string }[] = [];

function handle(req: IncomingMessage, res: ServerResponse) {
  seen.push({ url: req.url!, method: req.method!, auth: req.headers.authorization });
  const m = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(req.url!);
  const send = (status: number, body: Uint8Array | string, headers: Record<string, string> = {}) => {
    const b = typeof body === 'string' ? Buffer.from(body) : Buffer.from(body);
    res.writeHead(status, { 'content-length': String(b.length), ...headers });
    res.end(req.method === 'HEAD' ? undefined : b);
  };
  if (!m) return send(404, 'no route', { 'x-error-code': 'RepositoryNotFound' });
  const [, repo, rev] = m;
  const path = decodeURIComponent(m[3]);
  if (repo === 'org/gated') {
    if (!req.headers.authorization) return send(401, 'gated', { 'x-error-code': 'GatedRepo' });
    if (req.headers.authorization !== 'Bearer good') return send(403, 'forbidden');
    return send(200, `secret ${path}`);
  }
  if (repo === 'org/private') return send(401, 'Invalid username or password.');
  if (repo !== 'org/tiny') return send(404, 'Repository not found', { 'x-error-code': 'RepositoryNotFound' });
  if (rev !== 'main' && rev !== 'v1.0') return send(404, 'Revision', { 'x-error-code': 'RevisionNotFound' });
  if (path === 'config.json') return send(200, `{"rev":"${rev}"}`);
  if (path === 'sub dir/ä.txt') return send(200, 'unicode path');
  if (path === 'model.safetensors') {
    if (req.method === 'HEAD') return send(200, big);
    // Streamed in pieces so progress is reported more than once.
    res.writeHead(200, { 'content-length': String(big.length) });
    let off = 0;
    const next = () => {
      if (off >= big.length) return res.end();
      res.write(Buffer.from(big.subarray(off, off + 65536)), next);
      off += 65536;
    };
    return next();
  }
  if (path === 'chunked.bin') {
    res.writeHead(200); // no content-length: chunked transfer
    res.write(Buffer.from([1, 2, 3]));
    return res.end(Buffer.from([4, 5]));
  }
  return send(404, 'Entry not found', { 'x-error-code': 'EntryNotFound' });
}

let server: Server;
let endpoint: string;
beforeAll(async () => {
  server = createServer(handle);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

async function rejects(p: Promise<unknown>): Promise<string> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(UserError);
  return (e as UserError).message;
}

describe('hubSource', () => {
  it('reads text and bytes over the Hub URL layout, with progress', async () => {
    const hub = hubSource({ repo: 'org/tiny', endpoint });
    expect(hub.label).toBe(`${endpoint}/org/tiny`);
    expect(await hub.text('config.json')).toBe('{"rev":"main"}');
    const progress: [number, number][] = [];
    const bytes = await hub.bytes('model.safetensors', (l, t) => progress.push([l, t]));
    expect(same(bytes, big)).toBe(true);
    expect(progress.length).toBeGreaterThan(2);
    expect(progress[0]).toEqual([0, big.length]);
    expect(progress.at(-1)).toEqual([big.length, big.length]);
    for (let i = 1; i < progress.length; i++)
      expect(progress[i][0]).toBeGreaterThanOrEqual(progress[i - 1][0]);
  });

  it('handles bodies without a content length', async () => {
    const hub = hubSource({ repo: 'org/tiny', endpoint });
    const progress: [number, number][] = [];
    expect([...(await hub.bytes('chunked.bin', (l, t) => progress.push([l, t])))]).toEqual([1, 2, 3, 4, 5]);
    expect(progress[0]).toEqual([0, 0]);
    expect(progress.at(-1)![0]).toBe(5);
  });

  it('uses HEAD for has() and size(), and encodes revision and path', async () => {
    const hub = hubSource({ repo: 'org/tiny', endpoint, revision: 'v1.0' });
    expect(await hub.has('config.json')).toBe(true);
    expect(await hub.has('missing.json')).toBe(false);
    expect(await hub.size!('model.safetensors')).toBe(big.length);
    expect(await hub.size!('missing.json')).toBeUndefined();
    expect(await hub.text('config.json')).toBe('{"rev":"v1.0"}');
    expect(await hub.text('sub dir/ä.txt')).toBe('unicode path');
    expect(seen.some((s) => s.method === 'HEAD' && s.url === '/org/tiny/resolve/v1.0/config.json')).toBe(
      true,
    );
    expect(seen.some((s) => s.url === '/org/tiny/resolve/v1.0/sub%20dir/%C3%A4.txt')).toBe(true);
  });

  it('says "not found" for a missing file, repo or revision', async () => {
    expect(await rejects(hubSource({ repo: 'org/tiny', endpoint }).text('nope.json'))).toBe(
      `${endpoint}/org/tiny: nope.json not found (revision main)`,
    );
    expect(await rejects(hubSource({ repo: 'org/none', endpoint }).has('config.json'))).toBe(
      `${endpoint}/org/none: repo not found`,
    );
    expect(
      await rejects(hubSource({ repo: 'org/tiny', endpoint, revision: 'dev' }).text('config.json')),
    ).toMatch(/revision 'dev' not found/);
  });

  it('explains that gated or private repos need an access token (401/403)', async () => {
    const gated = hubSource({ repo: 'org/gated', endpoint });
    expect(await rejects(gated.has('config.json'))).toMatch(
      /org\/gated: the repo is gated: an access token is needed/,
    );
    expect(await rejects(gated.bytes('config.json'))).toMatch(/access token is needed/);
    const priv = hubSource({ repo: 'org/private', endpoint });
    expect(await rejects(priv.text('config.json'))).toMatch(
      /gated or private and an access token is needed \(HTTP 401\)/,
    );
    const bad = hubSource({ repo: 'org/gated', endpoint, token: 'bad' });
    expect(await rejects(bad.text('config.json'))).toMatch(/HTTP 403.*token was refused or has no access/);
    const good = hubSource({ repo: 'org/gated', endpoint, token: 'good' });
    expect(await good.text('config.json')).toBe('secret config.json');
    expect(seen.some((s) => s.auth === 'Bearer good')).toBe(true);
  });

  it('names the endpoint when the network fails', async () => {
    const dead = hubSource({ repo: 'org/tiny', endpoint: 'http://127.0.0.1:9' });
    expect(await rejects(dead.text('config.json'))).toMatch(
      /^http:\/\/127.0.0.1:9\/org\/tiny: cannot reach http:\/\/127.0.0.1:9 \(/,
    );
  });

  it('rejects bad repo ids and paths', async () => {
    expect(() => hubSource({ repo: 'not a repo', endpoint })).toThrow(UserError);
    expect(await rejects(hubSource({ repo: 'org/tiny', endpoint }).text('../secret'))).toMatch(
      /bad file path/,
    );
  });
});

describe('memorySource', () => {
  it('serves strings and bytes both ways', async () => {
    const mem = memorySource({ 'a.txt': 'héllo', 'b.bin': new Uint8Array([104, 105]) });
    expect(await mem.list!()).toEqual(['a.txt', 'b.bin']);
    expect(await mem.has('a.txt')).toBe(true);
    expect(await mem.has('c')).toBe(false);
    expect(await mem.has('toString')).toBe(false);
    expect(await mem.text('b.bin')).toBe('hi');
    expect(await mem.bytes('a.txt')).toEqual(new TextEncoder().encode('héllo'));
    expect(await mem.size!('a.txt')).toBe(6);
    expect(await rejects(mem.text('c'))).toBe('memory: c not found');
  });
});

describe('dirSource', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'src-test-'));
    await mkdir(join(dir, 'sub'));
    await writeFile(join(dir, 'config.json'), '{"a":1}');
    await writeFile(join(dir, 'sub', 'w.bin'), big);
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('lists, reads and reports progress', async () => {
    const src = dirSource(dir);
    expect(src.label).toBe(dir);
    expect(await src.list!()).toEqual(['config.json', 'sub/w.bin']);
    expect(await src.has('config.json')).toBe(true);
    expect(await src.has('sub')).toBe(false);
    expect(await src.has('nope')).toBe(false);
    expect(await src.size!('sub/w.bin')).toBe(big.length);
    expect(await src.text('config.json')).toBe('{"a":1}');
    const progress: number[] = [];
    const bytes = await src.bytes('sub/w.bin', (l, t) => (expect(t).toBe(big.length), progress.push(l)));
    expect(same(bytes, big)).toBe(true);
    expect(progress.at(-1)).toBe(big.length);
  });

  it('refuses paths outside the folder and names missing files', async () => {
    const src = dirSource(dir);
    expect(await rejects(src.text('nope.json'))).toBe(`${dir}: nope.json not found`);
    expect(await rejects(src.text('../etc/passwd'))).toMatch(/bad file path/);
    expect(await rejects(src.has('/etc/passwd'))).toMatch(/bad file path/);
  });
});
