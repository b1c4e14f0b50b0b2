// Hub downloads in the browser: the weights file is redirected to a second origin (the CDN, as the real
// Hub does), streamed into the browser's storage (OPFS), and when the CDN drops the connection mid-file the
// download resumes with a Range request; the stored bytes equal the repo's file and the model loads.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { expect, test } from '@playwright/test';
import { startHubServer, type HubServer } from './hub-server';
import { openApp, openTab, shot } from './helpers';

const REPO = 'e2e/resume-llama';
const DIR = 'tests/fixtures/golden/llama/model';
const DROP_AFTER = 100_000;
let hub: HubServer;

test.beforeAll(async () => {
  hub = await startHubServer({
    port: 0,
    repos: { [REPO]: DIR },
    dropOnce: [{ repo: REPO, file: 'model.safetensors', after: DROP_AFTER }],
  });
});
test.afterAll(() => hub?.close());

test('a dropped Hub download resumes with a Range request and stores the exact file', async ({ page }) => {
  const want = readFileSync(`${DIR}/model.safetensors`);
  expect(want.length).toBeGreaterThan(DROP_AFTER);
  await openApp(page);
  const panel = await openTab(page, 'Model');
  await panel.getByLabel('Hub endpoint').fill(hub.url);
  await panel.getByLabel('Access token').fill('');
  await panel.getByLabel('Hub repo id').fill(REPO);
  await panel.getByRole('button', { name: 'Load repo' }).click();
  await expect(panel.getByTestId('model-label')).toHaveText(REPO);
  await expect(panel.getByRole('region', { name: 'Model facts' })).toContainText('Layers2');
  await expect(panel.getByRole('progressbar', { name: 'Model download' })).toHaveAttribute(
    'aria-valuenow',
    '100',
  );
  await shot(page, 'model-download-resumed');

  // The Hub origin redirected; the CDN was cut once mid-file, then asked for the rest only.
  const file = hub.log.filter((r) =>
    r.path.endsWith(`${REPO}/0123456789abcdef0123456789abcdef01234567/model.safetensors`),
  );
  const gets = file.filter((r) => r.method === 'GET' && r.origin === 'cdn');
  expect(gets[0]).toMatchObject({ status: -1 });
  expect(gets[0].range).toBeUndefined();
  const resumed = gets.at(-1)!;
  expect(resumed.status).toBe(206);
  const from = Number(/^bytes=(\d+)-$/.exec(resumed.range ?? '')?.[1]);
  expect(from).toBeGreaterThan(0);
  expect(from).toBeLessThanOrEqual(DROP_AFTER);
  expect(
    hub.log.filter((r) => r.origin === 'hub' && r.path.endsWith('/model.safetensors') && r.method === 'GET'),
  ).toEqual(expect.arrayContaining([expect.objectContaining({ status: 302 })]));

  // The file in the browser's storage is the repo's file, byte for byte.
  const key = `${hub.url}|${REPO}|main`;
  const stored = await page.evaluate(async (key) => {
    const root = await navigator.storage.getDirectory();
    const dir = await (
      await root.getDirectoryHandle('hub-models')
    ).getDirectoryHandle(encodeURIComponent(key));
    const f = await (await dir.getFileHandle('model.safetensors')).getFile();
    const hash = await crypto.subtle.digest('SHA-256', await f.arrayBuffer());
    return {
      size: f.size,
      sha256: [...new Uint8Array(hash)].map((b) => b.toString(16).padStart(2, '0')).join(''),
    };
  }, key);
  expect(stored).toEqual({ size: want.length, sha256: createHash('sha256').update(want).digest('hex') });
});
