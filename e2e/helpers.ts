// Shared steps for the specs: open the app on a fresh profile, switch tabs by role and name, keep a
// screenshot of a panel under e2e-artifacts/ (kept as test artifacts), refresh the README's screenshot.
import { mkdirSync } from 'node:fs';
import { expect, type Locator, type Page } from '@playwright/test';
import { HUB_URL, TINY_REPO } from './env';

export const TAB_NAMES = ['Model', 'Data', 'Train', 'Chat', 'Adapters & Export', 'Evaluate'] as const;
export type TabName = (typeof TAB_NAMES)[number];

const ARTIFACTS = 'e2e-artifacts';

export async function openApp(page: Page) {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  await page.goto('/');
  await expect(page.getByRole('heading', { name: 'LoRA Studio' })).toBeVisible();
  return errors;
}

export async function openTab(page: Page, name: TabName) {
  const tab = page.getByRole('tab', { name, exact: true });
  await tab.click();
  await expect(tab).toHaveAttribute('aria-selected', 'true');
  return page.getByRole('tabpanel', { name, exact: true });
}

export async function shot(page: Page, name: string) {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.evaluate(() => scrollTo(0, 0));
  await page.screenshot({ path: `${ARTIFACTS}/${name}.png`, fullPage: true });
}

/**
 * The README's picture of the studio: the viewport (1360×900) as the user sees it, written to docs/ only
 * when UPDATE_DOCS=1 (it changes with every run: dates, timings), and always beside the other screenshots.
 */
export async function docShot(page: Page, name: string) {
  await page.evaluate(() => scrollTo(0, 0));
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: `${ARTIFACTS}/${name}.png` });
  if (process.env.UPDATE_DOCS === '1') await page.screenshot({ path: `docs/${name}.png` });
}

/** Waits for the engine worker to report its device (WebGPU adapter or the wasm fallback). */
export async function deviceBadge(page: Page) {
  const badge = page.getByTestId('device');
  await expect(badge).not.toHaveText(/Starting engine/, { timeout: 60_000 });
  return badge;
}

/** Chooses a dataset file on the Data tab and confirms its import preview (the rows are stored then). */
export async function importData(panel: Locator, file: string) {
  await panel.getByLabel('Import dataset file').setInputFiles(file);
  await panel
    .getByRole('region', { name: 'Import preview' })
    .getByRole('button', { name: /^Import \d+ rows?$/ })
    .click();
}

/** Replaces a field's text as a user does: select it, type key by key, leave the field (which commits it). */
export async function typeInto(field: Locator, text: string) {
  await field.click();
  await field.press('ControlOrMeta+a');
  await field.pressSequentially(text);
  await field.press('Tab');
}

/** Loads the tiny Llama from the mock Hub (e2e/hub-server.ts), as a user loads a Hub repo. */
export async function loadTinyRepo(page: Page) {
  const p = await openTab(page, 'Model');
  await p.getByLabel('Hub endpoint').fill(HUB_URL);
  await p.getByLabel('Hub repo id').fill(TINY_REPO);
  await p.getByRole('button', { name: 'Load repo' }).click();
  await expect(p.getByTestId('model-label')).toHaveText(TINY_REPO);
}

/** Imports the golden Llama's 4 pre-tokenized rows (dataset "data") on the Data tab; returns that panel. */
export async function importGoldenRows(page: Page) {
  const data = await openTab(page, 'Data');
  await importData(data, 'tests/fixtures/golden/llama/data.jsonl');
  await expect(data.getByRole('region', { name: 'Import report' })).toContainText('4 rows imported');
  return data;
}

/** After a fault: dataset "data" still has its 4 rows and the saved adapter "adapter_after" is in the library. */
export async function expectUserDataIntact(page: Page) {
  const data = await openTab(page, 'Data');
  await expect(data.getByRole('combobox', { name: 'Dataset' })).toContainText('data (4)');
  await expect(data.getByRole('table', { name: 'Rows of data' }).getByRole('row')).toHaveCount(5);
  const lib = await openTab(page, 'Adapters & Export');
  await expect(lib.getByLabel('Name of adapter adapter_after')).toHaveValue('adapter_after');
}
