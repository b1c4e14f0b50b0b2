// A local stand-in for the Hugging Face Hub's file URLs, for end-to-end tests with no network:
// `/{owner}/{name}/resolve/{revision}/{path}` (GET and HEAD, Content-Length, ETag, 404s with the Hub's
// X-Error-Code), gated repos that answer 401 without a valid token, CORS for the studio's origin, and a
// request log. As the real Hub does, weight files are redirected (302, X-Linked-Size) to a second origin,
// the "CDN" (another 127.0.0.1 port), which serves byte ranges (206) with CORS for any origin and can drop
// the connection once mid-file (to test resumed downloads).
// Run: `tsx e2e/hub-server.ts --port 4174 [--cdn-port 4175] [--root DIR] [--repo owner/name=DIR] [--gated owner/name=DIR] [--token T]`.
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join, relative, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

export interface HubServerOptions {
  port: number;
  host?: string;
  /** Folder laid out as `{owner}/{name}/files…`. */
  root?: string;
  /** Extra repos: id → folder. */
  repos?: Record<string, string>;
  /** Gated repos: id → folder; they need `Authorization: Bearer <token>` with one of `tokens`. */
  gated?: Record<string, string>;
  tokens?: string[];
  /** Port of the CDN origin weight files are redirected to (0 or absent: any free port). */
  cdnPort?: number;
  /** Files (repo-relative paths) served through the CDN; default: weight files (.safetensors, .bin, .gguf). */
  viaCdn?: (file: string) => boolean;
  /** The CDN drops the connection once for each of these files, after sending `after` bytes of its body. */
  dropOnce?: { repo: string; file: string; after: number }[];
  /** The CDN sends bodies no faster than this (bytes per second), so a test can interrupt a download. */
  cdnBytesPerSecond?: number;
}

export interface LogEntry {
  method: string;
  path: string;
  status: number;
  /** Which origin answered. */
  origin: 'hub' | 'cdn';
  /** The request's Range header, if any. */
  range?: string;
}

export interface HubServer {
  url: string;
  /** The CDN origin weight files are redirected to. */
  cdnUrl: string;
  server: Server;
  /** Requests to both origins, in order (the CDN's paths start with /repos/{owner}/{name}/). */
  log: LogEntry[];
  close(): Promise<void>;
}

const COMMIT = '0123456789abcdef0123456789abcdef01234567';

function cors(res: ServerResponse) {
  res.setHeader('Access-Control-Allow-Origin', '*');
  res.setHeader('Access-Control-Allow-Headers', 'Authorization, Range, Content-Type');
  res.setHeader('Access-Control-Allow-Methods', 'GET, HEAD, OPTIONS');
  res.setHeader(
    'Access-Control-Expose-Headers',
    'Content-Length, Content-Range, Accept-Ranges, ETag, X-Error-Code, X-Repo-Commit, X-Linked-Size, X-Linked-Etag',
  );
  res.setHeader('Cross-Origin-Resource-Policy', 'cross-origin');
}

const etagOf = (full: string, size: number) =>
  `"${createHash('sha1').update(`${full}:${size}`).digest('hex')}"`;
const isWeights = (file: string) => /\.(safetensors|bin|gguf|onnx|pt|pth)$/.test(file);

/**
 * The CDN's answer for one file: the whole file (200) or the byte range asked for (206, Content-Range),
 * 416 for a range past the end. `dropAfter` ends the connection after that many body bytes.
 */
function sendFile(
  req: IncomingMessage,
  res: ServerResponse,
  full: string,
  dropAfter?: number,
  bytesPerSecond?: number,
) {
  const size = statSync(full).size;
  const m = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
  let start = 0;
  let end = size - 1;
  if (m) {
    start = Number(m[1]);
    end = m[2] ? Math.min(Number(m[2]), size - 1) : size - 1;
    if (start >= size || start > end) {
      res.statusCode = 416;
      res.setHeader('Content-Range', `bytes */${size}`);
      return res.end();
    }
    res.statusCode = 206;
    res.setHeader('Content-Range', `bytes ${start}-${end}/${size}`);
  }
  res.setHeader('Accept-Ranges', 'bytes');
  res.setHeader('Content-Length', String(end - start + 1));
  res.setHeader('Content-Type', 'application/octet-stream');
  res.setHeader('ETag', etagOf(full, size));
  if (req.method === 'HEAD') return res.end();
  if ((dropAfter === undefined || dropAfter >= end - start + 1) && !bytesPerSecond) {
    return createReadStream(full, { start, end }).pipe(res);
  }
  // Paced and/or cut short (test files are small, so the body is read at once): after `dropAfter` bytes
  // the connection is cut, and the client sees a download failing mid-file.
  const body = readFileSync(full).subarray(start, end + 1);
  const stop = Math.min(dropAfter ?? body.length, body.length);
  const step = 16 * 1024;
  const pause = bytesPerSecond ? (step * 1000) / bytesPerSecond : 0;
  let off = 0;
  res.flushHeaders();
  const next = () => {
    if (res.destroyed) return;
    const chunk = body.subarray(off, Math.min(off + step, stop));
    off += chunk.length;
    if (off < stop) {
      res.write(chunk);
      setTimeout(next, pause);
    } else if (stop < body.length) {
      res.write(chunk);
      setTimeout(() => res.socket?.destroy(), 50);
    } else {
      res.end(chunk);
    }
  };
  next();
}

function fail(res: ServerResponse, status: number, code: string, message: string) {
  res.statusCode = status;
  res.setHeader('X-Error-Code', code);
  res.setHeader('Content-Type', 'application/json');
  res.end(JSON.stringify({ error: message }));
}

function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name));
      else out.push(relative(dir, join(d, e.name)).split(sep).join('/'));
    }
  };
  walk(dir);
  return out.sort();
}

export function startHubServer(opts: HubServerOptions): Promise<HubServer> {
  const gated = Object.fromEntries(Object.entries(opts.gated ?? {}).map(([k, v]) => [k, resolve(v)]));
  const repos = Object.fromEntries(Object.entries(opts.repos ?? {}).map(([k, v]) => [k, resolve(v)]));
  const tokens = new Set(opts.tokens ?? []);
  const log: HubServer['log'] = [];
  const viaCdn = opts.viaCdn ?? isWeights;
  const drops = [...(opts.dropOnce ?? [])];
  let cdnUrl = '';

  const repoDir = (id: string): string | undefined => {
    if (gated[id]) return gated[id];
    if (repos[id]) return repos[id];
    if (opts.root) {
      const d = resolve(opts.root, id);
      if (d.startsWith(resolve(opts.root) + sep) && existsSync(d) && statSync(d).isDirectory()) return d;
    }
    return undefined;
  };

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    cors(res);
    const url = new URL(req.url ?? '/', 'http://hub.local');
    const path = decodeURIComponent(url.pathname);
    const range = req.headers.range;
    const done = () =>
      log.push({
        method: req.method ?? '',
        path,
        status: res.statusCode,
        origin: 'hub',
        ...(range ? { range } : {}),
      });
    res.on('finish', done);
    if (req.method === 'OPTIONS') {
      res.statusCode = 204;
      return res.end();
    }
    if (path === '/health') return res.end('ok');
    if (path === '/__log') {
      res.setHeader('Content-Type', 'application/json');
      return res.end(JSON.stringify(log));
    }
    if (req.method !== 'GET' && req.method !== 'HEAD')
      return fail(res, 405, 'MethodNotAllowed', 'method not allowed');

    const api = /^\/api\/models\/([^/]+\/[^/]+)(?:\/revision\/([^/]+))?$/.exec(path);
    const m = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(path);
    const id = api?.[1] ?? m?.[1];
    if (!id) return fail(res, 404, 'EntryNotFound', 'not found');
    const dir = repoDir(id);
    if (!dir) return fail(res, 404, 'RepositoryNotFound', `Repository not found: ${id}`);
    if (gated[id]) {
      const auth = req.headers.authorization ?? '';
      const token = auth.startsWith('Bearer ') ? auth.slice(7) : '';
      if (!token)
        return fail(
          res,
          401,
          'GatedRepo',
          `Access to model ${id} is restricted. You must have access to it and be authenticated to access it.`,
        );
      if (!tokens.has(token))
        return fail(
          res,
          403,
          'GatedRepo',
          `Access to model ${id} is restricted and you are not in the authorized list.`,
        );
    }
    if (api) {
      res.setHeader('Content-Type', 'application/json');
      return res.end(
        JSON.stringify({
          id,
          sha: COMMIT,
          gated: gated[id] ? 'manual' : false,
          siblings: listFiles(dir).map((rfilename) => ({ rfilename })),
        }),
      );
    }
    const [, , revision, file] = m!;
    if (revision !== 'main' && revision !== COMMIT)
      return fail(res, 404, 'RevisionNotFound', `Invalid rev id: ${revision}`);
    const full = resolve(dir, file);
    if (!full.startsWith(dir + sep) || !existsSync(full) || !statSync(full).isFile()) {
      return fail(res, 404, 'EntryNotFound', `Entry not found: ${file}`);
    }
    const size = statSync(full).size;
    res.setHeader('X-Repo-Commit', COMMIT);
    if (viaCdn(file)) {
      // As huggingface.co does for LFS files: a redirect to a signed CDN URL on another origin.
      res.statusCode = 302;
      res.setHeader(
        'Location',
        `${cdnUrl}/repos/${id}/${COMMIT}/${file.split('/').map(encodeURIComponent).join('/')}?sig=e2e`,
      );
      res.setHeader('X-Linked-Size', String(size));
      res.setHeader('X-Linked-Etag', etagOf(full, size));
      res.setHeader('Content-Length', '0');
      return res.end();
    }
    res.setHeader('Content-Length', String(size));
    res.setHeader('Content-Type', file.endsWith('.json') ? 'application/json' : 'application/octet-stream');
    res.setHeader('ETag', etagOf(full, size));
    if (req.method === 'HEAD') return res.end();
    createReadStream(full).pipe(res);
  };

  /** The CDN origin: `/repos/{owner}/{name}/{commit}/{path}`, no auth (the URL is what the Hub signed). */
  const handleCdn = (req: IncomingMessage, res: ServerResponse) => {
    cors(res);
    const url = new URL(req.url ?? '/', 'http://cdn.local');
    const path = decodeURIComponent(url.pathname);
    const range = req.headers.range;
    res.on('finish', () =>
      log.push({
        method: req.method ?? '',
        path,
        status: res.statusCode,
        origin: 'cdn',
        ...(range ? { range } : {}),
      }),
    );
    res.on('close', () => {
      if (!res.writableFinished)
        log.push({ method: req.method ?? '', path, status: -1, origin: 'cdn', ...(range ? { range } : {}) });
    });
    if (req.method === 'OPTIONS') {
      res.statusCode = 204;
      return res.end();
    }
    const m = /^\/repos\/([^/]+\/[^/]+)\/([0-9a-f]{40})\/(.+)$/.exec(path);
    const dir = m ? repoDir(m[1]) : undefined;
    const full = m && dir ? resolve(dir, m[3]) : '';
    if (!m || !dir || !full.startsWith(dir + sep) || !existsSync(full) || !statSync(full).isFile()) {
      res.statusCode = 404;
      return res.end('not found');
    }
    const i = drops.findIndex((d) => d.repo === m[1] && d.file === m[3]);
    const drop = i >= 0 && req.method === 'GET' ? drops.splice(i, 1)[0].after : undefined;
    sendFile(req, res, full, drop, opts.cdnBytesPerSecond);
  };

  const host = opts.host ?? '127.0.0.1';
  const listen = (srv: Server, port: number) =>
    new Promise<string>((ok, bad) => {
      srv.once('error', bad);
      srv.listen(port, host, () => {
        const addr = srv.address();
        ok(`http://${host}:${typeof addr === 'object' && addr ? addr.port : port}`);
      });
    });
  const server = createServer(handle);
  const cdn = createServer(handleCdn);
  const close = (srv: Server) =>
    new Promise<void>((r) => {
      srv.close(() => r());
      srv.closeAllConnections();
    });
  return (async () => {
    cdnUrl = await listen(cdn, opts.cdnPort ?? 0);
    const url = await listen(server, opts.port);
    return {
      url,
      cdnUrl,
      server,
      log,
      close: async () => void (await Promise.all([close(server), close(cdn)])),
    };
  })();
}

const pairs = (list: string[] | undefined) =>
  Object.fromEntries(
    (list ?? []).map((s) => {
      const i = s.indexOf('=');
      if (i < 0) throw new Error(`expected owner/name=DIR, got ${s}`);
      return [s.slice(0, i), s.slice(i + 1)];
    }),
  );

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '4174' },
      'cdn-port': { type: 'string', default: '0' },
      host: { type: 'string', default: '127.0.0.1' },
      root: { type: 'string' },
      repo: { type: 'string', multiple: true },
      gated: { type: 'string', multiple: true },
      token: { type: 'string', multiple: true },
    },
  });
  const hub = await startHubServer({
    port: Number(values.port),
    cdnPort: Number(values['cdn-port']),
    host: values.host,
    root: values.root,
    repos: pairs(values.repo),
    gated: pairs(values.gated),
    tokens: values.token,
  });
  process.stdout.write(`mock Hub at ${hub.url}, its CDN at ${hub.cdnUrl}\n`);
}
