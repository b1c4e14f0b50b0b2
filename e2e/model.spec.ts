// Model tab against the mock Hub: a repo loads with progress and facts; a gated repo is refused without a
// token with a clear message and loads with one; a reload loads the model from IndexedDB with no download.
import { expect, test, type Page } from '@playwright/test';
import { GATED_REPO, HUB_TOKEN, HUB_URL, TINY_REPO } from './env';
import { openApp, openTab, shot } from './helpers';
import { startHubServer, type HubServer } from './hub-server';

// this file's own mock Hub: its request log sees only this test's page (other tests may run beside it)
let hub: HubServer;
test.beforeAll(async () => {
  hub = await startHubServer({ port: 0, repos: { [TINY_REPO]: 'tests/fixtures/golden/llama/model' } });
});
test.afterAll(() => hub?.close());

async function setHub(page: Page, token = '', url = HUB_URL) {
  const panel = await openTab(page, 'Model');
  await panel.getByLabel('Hub endpoint').fill(url);
  await panel.getByLabel('Access token').fill(token);
  return panel;
}

async function load(page: Page, repo: string) {
  const panel = await openTab(page, 'Model');
  await panel.getByLabel('Hub repo id').fill(repo);
  await panel.getByRole('button', { name: 'Load repo' }).click();
  return panel;
}

test('loads a Hub repo, shows its facts, and loads it again from the browser cache', async ({ page }) => {
  await openApp(page);
  await setHub(page, '', hub.url);
  const panel = await load(page, TINY_REPO);
  const facts = panel.getByRole('region', { name: 'Model facts' });
  await expect(facts.getByTestId('model-label')).toHaveText(TINY_REPO);
  await expect(facts).toContainText('Layers2');
  await expect(facts).toContainText('Vocabulary128');
  await expect(facts).toContainText('llama');
  await expect(panel.getByRole('progressbar', { name: 'Model download' })).toHaveAttribute(
    'aria-valuenow',
    '100',
  );
  await expect(panel.getByText(/^Loaded /)).toBeVisible();
  await shot(page, 'model-loaded');

  const before = hub.log.length;
  await page.reload();
  const again = await load(page, TINY_REPO);
  await expect(again.getByTestId('model-label')).toHaveText(TINY_REPO);
  await expect(again).toContainText('from browser cache');
  expect(hub.log.slice(before).filter((r) => r.path.includes(TINY_REPO))).toEqual([]);
});

test('a gated repo needs the access token', async ({ page }) => {
  await openApp(page);
  await setHub(page);
  const panel = await load(page, GATED_REPO);
  await expect(panel.getByRole('alert')).toContainText('gated');
  await expect(panel.getByRole('alert')).toContainText('access token');
  await shot(page, 'model-gated');

  await setHub(page, HUB_TOKEN);
  await load(page, GATED_REPO);
  await expect(panel.getByTestId('model-label')).toHaveText(GATED_REPO);
  await expect(panel).toContainText('qwen3');
});
