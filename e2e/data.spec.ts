// Data tab: choosing a JSONL file with mixed row formats, a broken line and an unknown row shows a preview
// (container, formats, rows mapped to columns, per-row errors with line numbers) that stores nothing until
// confirmed; rows render as text (no HTML); the dataset survives a reload. Multi-turn rows are edited turn
// by turn with the engine's validation shown inline, and the edits survive a reload.
import { expect, test } from '@playwright/test';
import { openApp, openTab, shot } from './helpers';

const FIXTURE = 'e2e/fixtures/mixed.jsonl';

test('previews an import, stores nothing on Cancel, and keeps the imported data across a reload', async ({
  page,
}) => {
  await openApp(page);
  let panel = await openTab(page, 'Data');
  await panel.getByLabel('Import dataset file').setInputFiles(FIXTURE);

  const preview = panel.getByRole('region', { name: 'Import preview' });
  await expect(preview.getByLabel('Container')).toHaveText('JSONL');
  await expect(preview).toContainText('4 rows to import (2 alpaca, 1 messages, 1 prompt_completion)');
  await expect(preview).toContainText('2 with errors will be skipped');
  await expect(preview).toContainText('as a new dataset "mixed"');
  const mapped = preview.getByRole('table', { name: 'Mapped rows' });
  await expect(mapped.getByRole('row')).toHaveCount(5); // header + 4
  const cells = (r: number) => mapped.getByRole('row').nth(r).getByRole('cell');
  // row 2: system / instruction / input / output
  await expect(cells(2)).toHaveText([
    'alpaca',
    'You are a calculator.',
    'Add the two numbers.',
    '2 + 3',
    '5',
  ]);
  // row 3: a messages row, user and assistant turns; markup shown literally
  await expect(cells(3)).toHaveText(['messages', '', 'Hi', '', 'Hi there! <b>not bold</b>']);
  await expect(preview.locator('b')).toHaveCount(0);
  // row 4: prompt → user, completion → assistant
  await expect(cells(4)).toHaveText(['prompt_completion', '', 'Capital of France?', '', 'Paris']);
  const perr = preview.getByRole('list', { name: 'Import errors' });
  await expect(perr.getByRole('listitem')).toHaveCount(2);
  await expect(perr).toContainText('mixed.jsonl:3');
  await expect(perr).toContainText('mixed.jsonl:6');
  await shot(page, 'data-import-preview');

  // Cancel stores nothing, not even after a reload
  await preview.getByRole('button', { name: 'Cancel' }).click();
  await expect(preview).toHaveCount(0);
  await expect(panel.getByRole('combobox', { name: 'Dataset' })).toContainText('none yet');
  await page.reload();
  panel = await openTab(page, 'Data');
  await expect(panel.getByRole('combobox', { name: 'Dataset' })).toContainText('none yet');

  await panel.getByLabel('Import dataset file').setInputFiles(FIXTURE);
  await panel.getByRole('button', { name: 'Import 4 rows' }).click();
  await expect(panel.getByRole('region', { name: 'Import preview' })).toHaveCount(0);
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
  // the messages row is editable turn by turn; model text with markup is kept literally
  await expect(table.getByLabel('Row 3 turn 2 content')).toHaveValue('Hi there! <b>not bold</b>');
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

test('edits a multi-turn conversation with inline validation and keeps it across a reload', async ({
  page,
}) => {
  await openApp(page);
  let panel = await openTab(page, 'Data');
  await panel.getByRole('button', { name: 'New dataset' }).click();
  await panel.getByRole('button', { name: 'Add conversation' }).click();
  let table = panel.getByRole('table', { name: 'Rows of Dataset 1' });
  await expect(table.getByRole('list', { name: 'Row 1 turns' }).getByRole('listitem')).toHaveCount(2);
  await expect(table.getByLabel('Row 1 turn 1 role')).toHaveValue('user');
  await expect(table.getByLabel('Row 1 turn 2 role')).toHaveValue('assistant');
  const problem = table.getByRole('note', { name: 'Row 1 problem' });
  await expect(problem).toContainText('empty assistant turn');

  await table.getByLabel('Row 1 turn 1 content').fill('What is 2 + 2?');
  await table.getByLabel('Row 1 turn 2 content').fill('4');
  await expect(problem).toHaveCount(0);

  // a new turn follows the last one's role; a user turn last is flagged
  await table.getByRole('button', { name: 'Add turn to row 1' }).click();
  await expect(table.getByLabel('Row 1 turn 3 role')).toHaveValue('user');
  await table.getByLabel('Row 1 turn 3 content').fill('And 3 + 3?');
  await expect(problem).toContainText('the last message must be from the assistant');

  // two assistant turns in a row: out of order
  await table.getByLabel('Row 1 turn 3 role').selectOption('assistant');
  await expect(problem).toContainText(
    'roles out of order: message 3 is "assistant" where "user" was expected',
  );
  await shot(page, 'data-conversation-invalid');

  // fix it: back to user, answer it; a stray turn is added and removed again
  await table.getByLabel('Row 1 turn 3 role').selectOption('user');
  await table.getByRole('button', { name: 'Add turn to row 1' }).click();
  await expect(table.getByLabel('Row 1 turn 4 role')).toHaveValue('assistant');
  await table.getByLabel('Row 1 turn 4 content').fill('6');
  await table.getByRole('button', { name: 'Add turn to row 1' }).click();
  await expect(table.getByLabel('Row 1 turn 5 role')).toHaveValue('user');
  await table.getByRole('button', { name: 'Remove turn 5 of row 1' }).click();
  await expect(table.getByLabel('Row 1 turn 5 role')).toHaveCount(0);
  await expect(problem).toHaveCount(0);
  // a system turn first is allowed
  await table.getByRole('button', { name: 'Add turn to row 1' }).click();
  await table.getByLabel('Row 1 turn 5 role').selectOption('system');
  await expect(problem).toContainText('message 5 is "system"');
  await table.getByRole('button', { name: 'Remove turn 5 of row 1' }).click();
  await expect(problem).toHaveCount(0);
  await shot(page, 'data-conversation');
  await page.waitForTimeout(800); // edits are saved shortly after typing stops

  await page.reload();
  panel = await openTab(page, 'Data');
  table = panel.getByRole('table', { name: 'Rows of Dataset 1' });
  await expect(table.getByRole('list', { name: 'Row 1 turns' }).getByRole('listitem')).toHaveCount(4);
  await expect(table.getByLabel('Row 1 turn 3 role')).toHaveValue('user');
  await expect(table.getByLabel('Row 1 turn 3 content')).toHaveValue('And 3 + 3?');
  await expect(table.getByLabel('Row 1 turn 4 content')).toHaveValue('6');
  await expect(table.getByRole('note', { name: 'Row 1 problem' })).toHaveCount(0);
});
