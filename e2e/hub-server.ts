// A local stand-in for the Hugging Face Hub's file URLs, for end-to-end tests with no network:
// `/{owner}/{name}/resolve/{revision}/{path}` (GET and HEAD, Content-Length, ETag, 404s with the Hub's
// X-Error-Code), gated repos that answer 401 without a valid token, CORS for the studio's origin, and a
// request log. Run: `tsx e2e/hub-server.ts --port 4174 [--root DIR] [--repo owner/name=DIR] [--gated owner/name=DIR] [--token T]`.
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readdirSync, statSync } from 'node:fs';
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
}

export interface HubServer {
  url: string;
  server: Server;
  /** GET requests per URL path (downloads), HEAD requests counted apart. */
  log: { method: string; path: string; status: number }[];
  close(): Promise<void>;
}

const COMMIT = '0123456789abcdef0123456789abcdef01234567';

function cors(res: ServerResponse) {
  res.setHeader('Access-Control-Allow-Origin', '*');
  res.setHeader('Access-Control-Allow-Headers', 'Authorization, Range, Content-Type');
  res.setHeader('Access-Control-Allow-Methods', 'GET, HEAD, OPTIONS');
  res.setHeader(
    'Access-Control-Expose-Headers',
    'Content-Length, ETag, X-Error-Code, X-Repo-Commit, X-Linked-Size',
  );
  res.setHeader('Cross-Origin-Resource-Policy', 'cross-origin');
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
    const done = () => log.push({ method: req.method ?? '', path, status: res.statusCode });
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
    res.setHeader('Content-Length', String(size));
    res.setHeader('Content-Type', file.endsWith('.json') ? 'application/json' : 'application/octet-stream');
    res.setHeader('ETag', `"${createHash('sha1').update(`${full}:${size}`).digest('hex')}"`);
    res.setHeader('X-Repo-Commit', COMMIT);
    if (req.method === 'HEAD') return res.end();
    createReadStream(full).pipe(res);
  };

  const server = createServer(handle);
  return new Promise((ok, bad) => {
    server.once('error', bad);
    server.listen(opts.port, opts.host ?? '127.0.0.1', () => {
      const addr = server.address();
      const port = typeof addr === 'object' && addr ? addr.port : opts.port;
      ok({
        url: `http://${opts.host ?? '127.0.0.1'}:${port}`,
        server,
        log,
        close: () => new Promise((r) => server.close(() => r())),
      });
    });
  });
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
      host: { type: 'string', default: '127.0.0.1' },
      root: { type: 'string' },
      repo: { type: 'string', multiple: true },
      gated: { type: 'string', multiple: true },
      token: { type: 'string', multiple: true },
    },
  });
  const hub = await startHubServer({
    port: Number(values.port),
    host: values.host,
    root: values.root,
    repos: pairs(values.repo),
    gated: pairs(values.gated),
    tokens: values.token,
  });
  process.stdout.write(`mock Hub at ${hub.url}\n`);
}
