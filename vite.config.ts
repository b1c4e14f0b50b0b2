// Vite config for the studio: React, an ES-module engine worker, cross-origin isolation (COOP/COEP, so
// onnxruntime-web can use threads and SharedArrayBuffer), and onnxruntime-web's wasm runtime files served
// by the app itself under /ort/ (copied from node_modules at build time; no CDN, DESIGN §7).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import react from '@vitejs/plugin-react';
import { defaultClientConditions, defineConfig, type Connect, type Plugin } from 'vite';

const require = createRequire(import.meta.url);
const ortDist = dirname(require.resolve('onnxruntime-web/ort-wasm-simd-threaded.wasm'));
/** The wasm build behind `onnxruntime-web/webgpu` (native WebGPU EP; its wasm EP is the fallback). */
const ORT_FILES = ['ort-wasm-simd-threaded.asyncify.mjs', 'ort-wasm-simd-threaded.asyncify.wasm'];

const isolation = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

/**
 * Content-Security-Policy: everything from our own origin; wasm compilation allowed ('wasm-unsafe-eval',
 * not 'unsafe-eval'). connect-src must also allow https: because the Hub endpoint is a user setting
 * (huggingface.co by default, or a mirror; Hub downloads redirect to CDN hosts), plus http on localhost
 * for a local mirror. Nothing else is ever contacted.
 */
const csp = (dev: boolean) =>
  [
    "default-src 'self'",
    // dev only: Vite's React refresh preamble is an inline script
    `script-src 'self' 'wasm-unsafe-eval'${dev ? " 'unsafe-inline'" : ''}`,
    "worker-src 'self' blob:",
    `connect-src 'self' https: http://127.0.0.1:* http://localhost:*${dev ? ' ws:' : ''}`,
    "img-src 'self' data: blob:",
    "style-src 'self'",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'none'",
  ].join('; ');

const mime = (f: string) => (f.endsWith('.wasm') ? 'application/wasm' : 'text/javascript');

/** Serves onnxruntime-web's runtime files at /ort/ in dev and emits them into dist/ort/ at build. */
function ortRuntimeFiles(): Plugin {
  let base = '/';
  const middleware: Connect.NextHandleFunction = (req, res, next) => {
    const url = (req.url ?? '').split('?')[0];
    const name = url.startsWith(`${base}ort/`) ? url.slice(base.length + 4) : '';
    if (!ORT_FILES.includes(name)) return next();
    res.setHeader('Content-Type', mime(name));
    for (const [k, v] of Object.entries(isolation)) res.setHeader(k, v);
    res.end(readFileSync(join(ortDist, name)));
  };
  return {
    name: 'ort-runtime-files',
    configResolved(c) {
      base = c.base;
    },
    configureServer(server) {
      server.middlewares.use(middleware);
    },
    generateBundle() {
      for (const name of ORT_FILES) {
        this.emitFile({ type: 'asset', fileName: `ort/${name}`, source: readFileSync(join(ortDist, name)) });
      }
    },
  };
}

/** The CSP meta tag, relaxed only for the dev server's inline refresh preamble. */
function contentSecurityPolicy(): Plugin {
  let dev = false;
  return {
    name: 'content-security-policy',
    configResolved(c) {
      dev = c.command === 'serve' && !c.isProduction;
    },
    transformIndexHtml: () => [
      {
        tag: 'meta',
        attrs: { 'http-equiv': 'Content-Security-Policy', content: csp(dev) },
        injectTo: 'head-prepend',
      },
    ],
  };
}

/**
 * Preview server: `.wasm` as application/wasm (streaming compilation needs it) and the CSP as a header on
 * every response too, which is what governs workers (a worker does not inherit the page's meta policy).
 */
function previewHeaders(): Plugin {
  return {
    name: 'preview-headers',
    configurePreviewServer(server) {
      server.middlewares.use((req, res, next) => {
        const path = (req.url ?? '').split('?')[0];
        if (path.endsWith('.wasm')) res.setHeader('Content-Type', 'application/wasm');
        res.setHeader('Content-Security-Policy', csp(false));
        next();
      });
    },
  };
}

export default defineConfig({
  // No SPA fallback: a missing file is a 404 (file sources probe for optional model files).
  appType: 'mpa',
  plugins: [react(), ortRuntimeFiles(), contentSecurityPolicy(), previewHeaders()],
  resolve: {
    // onnxruntime-web without its wasm glue inlined: the glue and wasm load from /ort/ (wasmPaths), so its
    // pthread workers start from their own module URL rather than from our worker bundle.
    conditions: ['onnxruntime-web-use-extern-wasm', ...defaultClientConditions],
  },
  worker: { format: 'es' },
  build: { target: 'es2022', chunkSizeWarningLimit: 2048 },
  server: { headers: { ...isolation } },
  preview: { headers: { ...isolation } },
  optimizeDeps: { exclude: ['onnxruntime-web'] },
});
