// Adapter import: a PEFT folder is checked against the loaded base model and enters the library; an
// adapter made for another architecture is refused with a message naming the mismatch. The cluster export
// zips the active dataset with the Train settings as TRL / Axolotl files.
import { readFileSync, writeFileSync } from 'node:fs';
import { expect, test } from '@playwright/test';
import { unzipSync, zipSync } from 'fflate';
import { HUB_URL, TINY_REPO } from './env';
import { importData, openApp, openTab, shot, typeInto } from './helpers';

test('imports a PEFT folder or zip and refuses one for another base model', async ({ page }, info) => {
  await openApp(page);
  let panel = await openTab(page, 'Model');
  await panel.getByLabel('Hub endpoint').fill(HUB_URL);
  await panel.getByLabel('Hub repo id').fill(TINY_REPO);
  await panel.getByRole('button', { name: 'Load repo' }).click();
  await expect(panel.getByTestId('model-label')).toHaveText(TINY_REPO);

  panel = await openTab(page, 'Adapters & Export');
  await panel
    .getByLabel('Import PEFT adapter folder')
    .setInputFiles('tests/fixtures/golden/llama/adapter_init');
  const lib = panel.getByRole('table', { name: 'Adapter library' });
  await expect(lib.getByLabel('Name of adapter adapter_init')).toHaveValue('adapter_init');
  await expect(lib).toContainText('4 / 8');
  await expect(lib).toContainText('imported');

  // the same kind of adapter zipped with its top folder, as PEFT folders usually are
  const dir = 'tests/fixtures/golden/llama/adapter_after';
  const zip = info.outputPath('my-adapter.zip');
  const files = ['adapter_config.json', 'adapter_model.safetensors'];
  writeFileSync(
    zip,
    zipSync(Object.fromEntries(files.map((f) => [`my-adapter/${f}`, readFileSync(`${dir}/${f}`)]))),
  );
  await panel.getByLabel('Import PEFT adapter zip').setInputFiles(zip);
  await expect(lib.getByLabel('Name of adapter my-adapter')).toHaveValue('my-adapter');

  await panel
    .getByLabel('Import PEFT adapter folder')
    .setInputFiles('tests/fixtures/golden/qwen3/adapter_init');
  await expect(page.getByRole('alert').filter({ hasText: 'adapter not imported' })).toContainText(
    'adapter_model.safetensors',
  );
  await expect(lib.getByRole('row')).toHaveCount(3);
  await shot(page, 'adapters-import');

  // GGUF and merged exports are built from the base model: without it loaded they are disabled, naming it
  await page.reload();
  panel = await openTab(page, 'Adapters & Export');
  const row = panel
    .getByRole('table', { name: 'Adapter library' })
    .getByRole('row')
    .filter({ has: page.getByLabel('Name of adapter adapter_init') });
  const base = (await row.getByRole('cell').nth(1).textContent()) ?? '';
  expect(base).not.toBe('');
  for (const name of [
    'Export adapter_init as GGUF adapter',
    'Export adapter_init merged into the base model',
  ]) {
    const button = row.getByRole('button', { name });
    await expect(button).toBeDisabled();
    await expect(button).toHaveAttribute('title', `Load its base model first: ${base}`);
  }
  await expect(row.getByRole('button', { name: 'Export adapter_init as PEFT zip' })).toBeEnabled();
});

test('exports the dataset and Train settings for a GPU cluster as a zip', async ({ page }) => {
  await openApp(page);
  let panel = await openTab(page, 'Model');
  await panel.getByLabel('Hub endpoint').fill(HUB_URL);
  await panel.getByLabel('Hub repo id').fill(TINY_REPO);
  await panel.getByRole('button', { name: 'Load repo' }).click();
  await expect(panel.getByTestId('model-label')).toHaveText(TINY_REPO);
  panel = await openTab(page, 'Data');
  await importData(panel, 'e2e/fixtures/chat.jsonl');
  await expect(panel.getByRole('region', { name: 'Import report' })).toContainText('rows imported');
  panel = await openTab(page, 'Train');
  await typeInto(panel.getByLabel('Steps', { exact: true }), '7');

  panel = await openTab(page, 'Adapters & Export');
  const download = page.waitForEvent('download');
  await panel.getByRole('button', { name: 'Export for a GPU cluster', exact: true }).click();
  const zip = unzipSync(new Uint8Array(readFileSync(await (await download).path())));
  const names = Object.keys(zip).sort();
  expect(names).toEqual(
    ['README.md', 'axolotl.yaml', 'data.jsonl', 'train_hf.py', 'train_trl.py'].map((f) => `chat-recipe/${f}`),
  );
  const text = (f: string) => new TextDecoder().decode(zip[`chat-recipe/${f}`]);
  expect(text('train_trl.py')).toContain(`BASE_MODEL = "${TINY_REPO}"`);
  expect(text('train_trl.py')).toContain('max_steps=7,');
  expect(text('axolotl.yaml')).toContain('max_steps: 7\n');
  expect(text('data.jsonl').split('\n')[0]).toBe(
    JSON.stringify({
      messages: [
        { role: 'user', content: 'Greet the user.' },
        { role: 'assistant', content: 'Hello there!' },
      ],
    }),
  );
});
