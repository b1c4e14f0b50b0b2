// Data tab: importing a JSONL file with mixed row formats, a broken line and an unknown row shows
// per-row errors with line numbers; rows render as text (no HTML); the dataset survives a reload.
import { expect, test } from '@playwright/test';
import { openApp, openTab, shot } from './helpers';

const FIXTURE = 'e2e/fixtures/mixed.jsonl';

test('imports JSONL with per-row errors and keeps the data across a reload', async ({ page }) => {
  await openApp(page);
  const panel = await openTab(page, 'Data');
  await panel.getByLabel('Import dataset file').setInputFiles(FIXTURE);

  const report = panel.getByRole('region', { name: 'Import report' });
  await expect(report).toContainText('4 rows imported');
  await expect(report).toContainText('2 skipped');
  const errors = report.getByRole('list', { name: 'Import errors' });
  await expect(errors.getByRole('listitem')).toHaveCount(2);
  await expect(errors).toContainText('mixed.jsonl:3');
  await expect(errors).toContainText('invalid JSON');
  await expect(errors).toContainText('mixed.jsonl:6');
  await expect(errors).toContainText('unknown row format');

  const table = panel.getByRole('table', { name: 'Rows of mixed' });
  await expect(table.getByRole('row')).toHaveCount(5); // header + 4
  await expect(table.getByLabel('Row 2 input')).toHaveValue('2 + 3');
  await expect(table.getByLabel('Row 2 system')).toHaveValue('You are a calculator.');
  // model text with markup is shown literally
  await expect(table).toContainText('<b>not bold</b>');
  await expect(table.locator('b')).toHaveCount(0);

  // edit a cell and type two new rows, then reload: IndexedDB keeps them
  await table.getByLabel('Row 1 output').fill('Hi! Edited.');
  await panel.getByRole('button', { name: 'Add row' }).click();
  await table.getByLabel('Row 5 instruction').fill('New question');
  await table.getByLabel('Row 5 output').fill('New answer');
  await panel.getByRole('button', { name: 'Add row' }).click();
  await table.getByLabel('Row 6 instruction').fill('Second typed question');
  await table.getByLabel('Row 6 output').fill('Second typed answer');
  await shot(page, 'data-imported');
  await page.waitForTimeout(800); // edits are saved shortly after typing stops

  await page.reload();
  const again = await openTab(page, 'Data');
  await expect(again.getByRole('combobox', { name: 'Dataset' })).toContainText('mixed (6)');
  const t2 = again.getByRole('table', { name: 'Rows of mixed' });
  await expect(t2.getByLabel('Row 1 output')).toHaveValue('Hi! Edited.');
  await expect(t2.getByLabel('Row 5 output')).toHaveValue('New answer');
  await expect(t2.getByLabel('Row 6 instruction')).toHaveValue('Second typed question');
  await shot(page, 'data-after-reload');
});
