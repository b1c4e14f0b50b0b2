// The app loads cross-origin isolated, every tab is reachable by role and accessible name (mouse and
// keyboard), the engine reports a WebGPU adapter (SwiftShader here), and each panel is screenshotted.
import { expect, test } from '@playwright/test';
import { deviceBadge, openApp, openTab, shot, TAB_NAMES } from './helpers';

test('loads, is cross-origin isolated and serves its own onnxruntime files', async ({ page, request }) => {
  const errors = await openApp(page);
  expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
  const csp = await page.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute('content');
  expect(csp).toContain("script-src 'self' 'wasm-unsafe-eval'");
  const header = (await request.get('/')).headers()['content-security-policy'];
  expect(header).toContain("script-src 'self' 'wasm-unsafe-eval';");
  const wasm = await request.head('/ort/ort-wasm-simd-threaded.asyncify.wasm');
  expect(wasm.status()).toBe(200);
  expect(wasm.headers()['content-type']).toBe('application/wasm');
  expect(errors).toEqual([]);
});

test('every tab is reachable by role and name', async ({ page }) => {
  await openApp(page);
  await expect(page.getByRole('tab')).toHaveCount(TAB_NAMES.length);
  for (const name of TAB_NAMES) {
    const panel = await openTab(page, name);
    await expect(panel).toBeVisible();
    await shot(page, `tab-${name.toLowerCase().replace(/[^a-z]+/g, '-')}`);
  }
  // keyboard: arrows move between tabs
  await page.getByRole('tab', { name: 'Model', exact: true }).focus();
  await page.keyboard.press('ArrowRight');
  await expect(page.getByRole('tab', { name: 'Data', exact: true })).toHaveAttribute('aria-selected', 'true');
  await page.keyboard.press('End');
  await expect(page.getByRole('tab', { name: TAB_NAMES.at(-1)!, exact: true })).toBeFocused();
});

test('the engine reports a WebGPU adapter (SwiftShader)', async ({ page }) => {
  await openApp(page);
  const badge = await deviceBadge(page);
  await expect(badge).toHaveAttribute('data-backend', 'webgpu');
  await expect(badge).toContainText(/WebGPU · google swiftshader/i);
  await shot(page, 'device');
});
