// Hub downloads in the browser: the weights file is redirected to a second origin (the CDN, as the real
// Hub does), streamed into the browser's storage (OPFS), and when the CDN drops the connection mid-file the
// download resumes with a Range request; the stored bytes equal the repo's file and the model loads. A page
// closed mid-download leaves its bytes in OPFS, and the next load asks only for the rest.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { expect, test, type Page } from '@playwright/test';
import { startHubServer, type HubServer } from './hub-server';
import { openApp, openTab, shot } from './helpers';

const REPO = 'e2e/resume-llama';
const DIR = 'tests/fixtures/golden/llama/model';
const DROP_AFTER = 100_000;
const COMMIT = '0123456789abcdef0123456789abcdef01234567';
let hub: HubServer;

test.beforeAll(async () => {
  hub = await startHubServer({
    port: 0,
    repos: { [REPO]: DIR },
    dropOnce: [{ repo: REPO, file: 'model.safetensors', after: DROP_AFTER }],
  });
});
test.afterAll(() => hub?.close());

/** Size and SHA-256 of a model's weights file in the page's OPFS. */
function storedFile(page: Page, key: string) {
  return page.evaluate(async (key) => {
    const root = await navigator.storage.getDirectory();
    const top = await root.getDirectoryHandle('hub-models');
    const dir = await top.getDirectoryHandle(encodeURIComponent(key));
    const f = await (await dir.getFileHandle('model.safetensors')).getFile();
    const hash = new Uint8Array(await crypto.subtle.digest('SHA-256', await f.arrayBuffer()));
    return { size: f.size, sha256: [...hash].map((b) => b.toString(16).padStart(2, '0')).join('') };
  }, key);
}

async function loadRepo(page: Page, endpoint: string, repo: string) {
  const panel = await openTab(page, 'Model');
  await panel.getByLabel('Hub endpoint').fill(endpoint);
  await panel.getByLabel('Access token').fill('');
  await panel.getByLabel('Hub repo id').fill(repo);
  await panel.getByRole('button', { name: 'Load repo' }).click();
  return panel;
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

test('a dropped Hub download resumes with a Range request and stores the exact file', async ({ page }) => {
  const want = readFileSync(`${DIR}/model.safetensors`);
  expect(want.length).toBeGreaterThan(DROP_AFTER);
  await openApp(page);
  const panel = await loadRepo(page, hub.url, REPO);
  await expect(panel.getByTestId('model-label')).toHaveText(REPO);
  await expect(panel.getByRole('region', { name: 'Model facts' })).toContainText('Layers2');
  await expect(panel.getByRole('progressbar', { name: 'Model download' })).toHaveAttribute(
    'aria-valuenow',
    '100',
  );
  await shot(page, 'model-download-resumed');

  // The Hub origin redirected; the CDN was cut once mid-file, then asked for the rest only.
  const cdnGets = () =>
    hub.log.filter(
      (r) =>
        r.origin === 'cdn' && r.method === 'GET' && r.path.endsWith(`/${REPO}/${COMMIT}/model.safetensors`),
    );
  await expect.poll(() => cdnGets().at(-1)?.status).toBe(206); // logged once the body is sent
  const gets = cdnGets();
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
  const stored = await storedFile(page, `${hub.url}|${REPO}|main`);
  expect(stored).toEqual({ size: want.length, sha256: sha256(want) });
});

test('a download cut off by closing the page resumes from the stored bytes on the next load', async ({
  page,
}) => {
  const want = readFileSync(`${DIR}/model.safetensors`);
  // A slow CDN (about 8 s for this file), so the page can be reloaded mid-download.
  const slow = await startHubServer({ port: 0, repos: { [REPO]: DIR }, cdnBytesPerSecond: 32 * 1024 });
  try {
    await openApp(page);
    const panel = await loadRepo(page, slow.url, REPO);
    const bar = panel.getByRole('progressbar', { name: 'Model download' });
    await expect(bar).toHaveAttribute('aria-valuenow', /^([3-9]\d)$/);
    page.once('dialog', (d) => void d.accept()); // leaving while a load runs may ask first
    await page.reload();

    await loadRepo(page, slow.url, REPO);
    await expect(panel.getByTestId('model-label')).toHaveText(REPO);
    const cdnGets = () => slow.log.filter((r) => r.origin === 'cdn' && r.method === 'GET');
    await expect.poll(() => cdnGets().at(-1)?.status).toBe(206); // logged once the body is sent
    const gets = cdnGets();
    expect(gets[0]).toMatchObject({ status: -1 }); // the first download, cut by the reload
    const from = Number(/^bytes=(\d+)-$/.exec(gets.at(-1)!.range ?? '')?.[1]);
    expect(from).toBeGreaterThan(want.length * 0.25);
    expect(await storedFile(page, `${slow.url}|${REPO}|main`)).toEqual({
      size: want.length,
      sha256: sha256(want),
    });
  } finally {
    await slow.close();
  }
});
