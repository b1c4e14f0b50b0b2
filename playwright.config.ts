// Playwright end-to-end tests: Debian's Chromium (never a downloaded browser) in headless mode with
// SwiftShader WebGPU, the built app served by `vite preview` on 127.0.0.1, and a mock of the Hub's URL
// layout (e2e/hub-server.ts) serving tiny model folders. Screenshots of each panel go to e2e-artifacts/.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { defineConfig } from '@playwright/test';
import { APP_PORT, CHROMIUM, CHROMIUM_ARGS, HUB_PORT, HUB_TOKEN, WEBGPU_ARG } from './e2e/env';

/**
 * A machine without Debian's Chromium: as root, install it (apt); otherwise say in one line how to get it,
 * instead of one launch failure per test.
 */
function ensureChromium(path: string) {
  if (existsSync(path)) return;
  if (process.getuid?.() === 0 && existsSync('/usr/bin/apt-get')) {
    console.log(`${path} is missing: installing Debian's chromium package…`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    try {
      execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
      execFileSync('apt-get', ['install', '-y', '-qq', 'chromium'], { stdio: 'inherit', env });
    } catch {
      // reported below
    }
    if (existsSync(path)) return;
  }
  console.error(
    `The e2e tests need Debian's Chromium at ${path}: install it with "sudo apt-get install chromium" ` +
      '(they never download a browser).',
  );
  process.exit(1);
}
ensureChromium(CHROMIUM);

export default defineConfig({
  testDir: 'e2e',
  outputDir: 'test-results',
  // One page compiles WebGPU shaders on a software adapter: allow for the first step after a load.
  timeout: 120_000,
  expect: { timeout: 20_000 },
  // Two tests at a time: a test's page mostly keeps one core busy (SwiftShader's GPU process, or WebAssembly
  // training) and waits in between, so two share this 2-core box well. E2E_WORKERS=1 runs them one by one.
  workers: Number(process.env.E2E_WORKERS ?? 2),
  fullyParallel: true,
  retries: 0,
  reporter: [['list']],
  use: {
    baseURL: `http://127.0.0.1:${APP_PORT}`,
    browserName: 'chromium',
    viewport: { width: 1360, height: 900 },
    launchOptions: { executablePath: CHROMIUM, args: [...CHROMIUM_ARGS, WEBGPU_ARG] },
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
  },
  webServer: [
    {
      command: `npm run build && npx vite preview --host 127.0.0.1 --port ${APP_PORT} --strictPort`,
      url: `http://127.0.0.1:${APP_PORT}/`,
      reuseExistingServer: false,
      timeout: 180_000,
      stdout: 'ignore',
    },
    {
      command:
        `npx tsx e2e/hub-server.ts --port ${HUB_PORT} --root e2e/fixtures/hub` +
        ` --repo e2e/tiny-llama=tests/fixtures/golden/llama/model` +
        ` --gated e2e/gated-qwen3=tests/fixtures/golden/qwen3/model --token ${HUB_TOKEN}`,
      url: `http://127.0.0.1:${HUB_PORT}/health`,
      reuseExistingServer: false,
      timeout: 60_000,
    },
  ],
});
