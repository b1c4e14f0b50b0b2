// Bad input in the studio, each refused with a clear message while the user's data stays: a folder that is
// not a model, an unsupported architecture (from the Hub and as a folder), and a full disk while saving a
// dataset (IndexedDB writes made to fail with a QuotaExceededError, as a browser does when over quota).
import { expect, test, type Page } from '@playwright/test';
import { HUB_URL, TINY_REPO } from './env';
import { importData, openApp, openTab, shot } from './helpers';

async function importMixed(page: Page) {
  const panel = await openTab(page, 'Data');
  await importData(panel, 'e2e/fixtures/mixed.jsonl');
  await expect(panel.getByRole('region', { name: 'Import report' })).toContainText('4 rows imported');
  return panel;
}

test('a folder that is not a model and an unsupported architecture are refused clearly', async ({ page }) => {
  await openApp(page);
  await importMixed(page);
  const panel = await openTab(page, 'Model');
  await panel.getByLabel('Hub endpoint').fill(HUB_URL);
  await panel.getByLabel('Hub repo id').fill(TINY_REPO);
  await panel.getByRole('button', { name: 'Load repo' }).click();
  const label = panel.getByTestId('model-label');
  await expect(label).toHaveText(TINY_REPO);
  const alert = panel.getByRole('alert');
  const folder = panel.getByLabel('Choose a local model folder');

  // a dataset folder (README + JSONL): says what is missing, what it looks like, and where it goes
  await folder.setInputFiles('e2e/fixtures/folders/dataset-only');
  await expect(alert).toContainText('dataset-only: not a model folder: there is no config.json');
  await expect(alert).toContainText('found README.md, train.jsonl');
  await expect(alert).toContainText('import its file on the Data tab');
  // refused before anything was dropped: the model loaded before is still there
  await expect(alert).toContainText(`${TINY_REPO} is still loaded`);
  await expect(label).toHaveText(TINY_REPO);
  await shot(page, 'bad-folder');

  // GPT-2 from the Hub, then as a local folder: the message names the supported architectures
  await panel.getByLabel('Hub repo id').fill('e2e/tiny-gpt2');
  await panel.getByRole('button', { name: 'Load repo' }).click();
  await expect(alert).toContainText("e2e/tiny-gpt2/config.json: unsupported architecture 'gpt2'");
  await expect(alert).toContainText('supported: llama, qwen2, qwen3');
  await expect(label).toHaveText(TINY_REPO);
  await folder.setInputFiles('e2e/fixtures/folders/gpt2');
  await expect(alert).toContainText("gpt2/config.json: unsupported architecture 'gpt2' (model_type)");
  await expect(alert).not.toContainText('e2e/tiny-gpt2');
  await expect(alert).toContainText('supported: llama, qwen2, qwen3');
  await shot(page, 'bad-architecture');

  // the model still works and the dataset is untouched
  await expect(label).toHaveText(TINY_REPO);
  const data = await openTab(page, 'Data');
  await expect(data.getByRole('combobox', { name: 'Dataset' })).toContainText('mixed (4)');
  await expect(data.getByRole('table', { name: 'Rows of mixed' }).getByRole('row')).toHaveCount(5);
});

test('a full disk while saving a dataset says so, keeps the edit on the page and the stored data', async ({
  page,
}) => {
  // Once the page sets __diskFull, every write to the datasets store throws as over-quota IndexedDB does.
  await page.addInitScript(() => {
    const flag = globalThis as { __diskFull?: boolean };
    for (const op of ['put', 'add'] as const) {
      const original = IDBObjectStore.prototype[op];
      IDBObjectStore.prototype[op] = function (this: IDBObjectStore, ...args: Parameters<typeof original>) {
        if (flag.__diskFull && this.name === 'datasets')
          throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
        return original.apply(this, args);
      };
    }
  });
  await openApp(page);
  let panel = await importMixed(page);
  let table = panel.getByRole('table', { name: 'Rows of mixed' });
  await table.getByLabel('Row 1 output').fill('Saved edit');
  await page.waitForTimeout(800); // edits are saved shortly after typing stops

  await page.evaluate(() => ((globalThis as { __diskFull?: boolean }).__diskFull = true));
  await table.getByLabel('Row 1 output').fill('Unsaved edit');
  const full = page.getByRole('alert').filter({ hasText: 'browser storage is full' });
  await expect(full).toContainText('your changes to "mixed" stay on this page but are not saved');
  await expect(full).toContainText('Adapters & Export → Storage');
  await expect(table.getByLabel('Row 1 output')).toHaveValue('Unsaved edit');

  // importing a file as a new dataset: refused, no dataset half-made, no report claiming rows
  await importData(panel, 'e2e/fixtures/chat.jsonl');
  await expect(
    page.getByRole('alert').filter({ hasText: 'browser storage is full: dataset "chat" was not saved' }),
  ).toBeVisible();
  const datasets = panel.getByRole('combobox', { name: 'Dataset' });
  await expect(datasets.getByRole('option')).toHaveCount(1);
  await expect(datasets).toContainText('mixed (4)');
  await expect(panel.getByRole('region', { name: 'Import report' })).toHaveCount(0);
  await shot(page, 'storage-full');

  // after a reload the stored copy is the last one saved before the disk filled up
  await page.reload();
  panel = await openTab(page, 'Data');
  await expect(panel.getByRole('combobox', { name: 'Dataset' })).toContainText('mixed (4)');
  table = panel.getByRole('table', { name: 'Rows of mixed' });
  await expect(table.getByLabel('Row 1 output')).toHaveValue('Saved edit');
  await expect(table.getByRole('row')).toHaveCount(5);
});
