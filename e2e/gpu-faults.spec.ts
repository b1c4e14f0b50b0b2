// The GPU under faults (SwiftShader WebGPU): the engine worker's real GPUDevice is destroyed as a GPU reset
// destroys it (`self.__loraStudio.loseDevice()` in the worker calls device.destroy(); its `lost` promise
// resolves as on a reset). A run training then ends interrupted at its last checkpoint, says so, and resumes
// on a new device; one lost before its first checkpoint starts again from step 0; chat works again after a
// loss (the weights are uploaded again). Dataset, checkpoint and saved adapters stay as they were.
import { expect, test, type Locator, type Page } from '@playwright/test';
import {
  expectUserDataIntact,
  importGoldenRows,
  loadTinyRepo,
  openApp,
  openTab,
  shot,
  typeInto,
} from './helpers';

const engineWorker = (page: Page) => page.workers().find((w) => w.url().includes('engine'))!;
/** Destroys the engine worker's GPUDevice; resolves once its `lost` promise has. */
const loseDevice = (page: Page) =>
  engineWorker(page).evaluate(() =>
    (self as unknown as { __loraStudio: { loseDevice(): Promise<boolean> } }).__loraStudio.loseDevice(),
  );
const stepOf = async (progress: Locator) =>
  Number(/step (\d+)/.exec((await progress.getAttribute('aria-valuetext')) ?? '')?.[1] ?? -1);

/** Starts a 400-step run of the tiny repo on the golden rows, `field` set to `value`; its bar and history row. */
async function startRun(page: Page, name: string, field: string, value: string) {
  const panel = await openTab(page, 'Train');
  await typeInto(panel.getByLabel('Steps', { exact: true }), '400');
  await typeInto(panel.getByLabel('Batch size', { exact: true }), '2');
  await typeInto(panel.getByLabel(field), value);
  await panel.getByLabel('Run name').fill(name);
  await panel.getByRole('button', { name: 'Start training' }).click();
  const progress = panel.getByRole('progressbar', { name: 'Training progress' });
  const row = panel.getByRole('table', { name: 'Run history' }).getByRole('row').filter({ hasText: name });
  return { panel, progress, row };
}

test('the GPU is reset mid-run: interrupted at its checkpoint, resumed on a new device', async ({ page }) => {
  test.setTimeout(420_000);
  await openApp(page);
  await loadTinyRepo(page);
  await importGoldenRows(page);
  const lib = await openTab(page, 'Adapters & Export');
  await lib
    .getByLabel('Import PEFT adapter folder')
    .setInputFiles('tests/fixtures/golden/llama/adapter_after');
  await expect(lib.getByLabel('Name of adapter adapter_after')).toHaveValue('adapter_after');
  const { progress, row } = await startRun(page, 'reset run', 'Checkpoint every', '1');
  await expect(progress).toHaveAttribute('aria-valuetext', /^running · step [2-9].*checkpoint at/, {
    timeout: 180_000,
  });

  expect(await loseDevice(page)).toBe(true);
  const alert = page.getByRole('alert').filter({ hasText: 'The GPU was reset (device lost).' }).first();
  await expect(alert).toContainText(/Resume continues from step \d+\./);
  const kept = Number(/from step (\d+)/.exec(await alert.innerText())![1]);
  expect(kept).toBeGreaterThanOrEqual(2);
  await expect(progress).toHaveAttribute('aria-valuetext', /^interrupted · /);
  await expect(row).toContainText('interrupted');
  await expect(row).toContainText(`${kept} / 400`);
  await expect(row).not.toContainText('failed');
  await shot(page, 'fault-device-lost');
  // nothing of the user's was touched
  await expectUserDataIntact(page);

  // resumed from the history on a new device: from the kept step, and on past it
  const panel = await openTab(page, 'Train');
  await row.getByRole('button', { name: 'Resume reset run' }).click();
  await expect(progress).toHaveAttribute(
    'aria-valuetext',
    new RegExp(`^(starting|running) · step ${kept} / 400`),
  );
  await expect.poll(() => stepOf(progress), { timeout: 180_000 }).toBeGreaterThan(kept);
  await expect(progress).toHaveAttribute('aria-valuetext', /^running /);
  await panel.getByRole('button', { name: 'Stop' }).click();
  await expect(progress).toHaveAttribute('aria-valuetext', /^stopped /, { timeout: 60_000 });
});

test('the GPU is reset before the first checkpoint: the run starts again from step 0', async ({ page }) => {
  test.setTimeout(300_000);
  await openApp(page);
  await loadTinyRepo(page);
  await importGoldenRows(page);
  const { panel, progress, row } = await startRun(page, 'early run', 'Seconds between checkpoints', '3600');
  await expect(progress).toHaveAttribute('aria-valuetext', /^running · step [1-9]/, { timeout: 180_000 });
  await expect(progress).not.toHaveAttribute('aria-valuetext', /checkpoint at/);

  expect(await loseDevice(page)).toBe(true);
  const alert = page.getByRole('alert').filter({ hasText: 'The GPU was reset (device lost).' }).first();
  await expect(alert).toContainText(
    'No checkpoint was kept yet: Start again in the run history trains it again from step 0.',
  );
  await expect(row).toContainText('interrupted');
  await expect(row).toContainText('0 / 400');
  await expect(row.getByRole('button', { name: 'Resume early run' })).toHaveCount(0);
  const data = await openTab(page, 'Data'); // the dataset is as it was
  await expect(data.getByRole('table', { name: 'Rows of data' }).getByRole('row')).toHaveCount(5);
  await openTab(page, 'Train');

  // the same run, again from step 0 on a new device, its curves cleared
  await row.getByRole('button', { name: 'Start early run again' }).click();
  await expect(progress).toHaveAttribute('aria-valuetext', /^(starting|running) · step 0 \/ 400/);
  await expect.poll(() => stepOf(progress), { timeout: 180_000 }).toBeGreaterThan(0);
  await panel.getByRole('button', { name: 'Stop' }).click();
  await expect(progress).toHaveAttribute('aria-valuetext', /^stopped /, { timeout: 60_000 });
  await expect(row).toContainText('stopped');
});

test('chat works again after the GPU is reset: the model is uploaded to a new device', async ({ page }) => {
  test.setTimeout(300_000);
  await openApp(page);
  const model = await openTab(page, 'Model');
  await model.getByRole('button', { name: 'Load the embedded tiny model' }).click();
  await expect(model.getByTestId('model-label')).toHaveText('Embedded WordNet model');
  const chat = await openTab(page, 'Chat');
  await typeInto(chat.getByLabel('Max new tokens'), '4');
  await typeInto(chat.getByLabel('Temperature'), '0');
  const ask = async (text: string) => {
    const turns = chat.locator('.turn');
    const n = await turns.count();
    await chat.getByLabel('Message').fill(text);
    await chat.getByRole('button', { name: 'Send' }).click();
    const turn = turns.nth(n);
    await expect(turn.getByLabel('You')).toHaveText(text);
    const reply = turn.locator('.reply').first();
    await expect(reply).toHaveAttribute('aria-busy', 'false', { timeout: 150_000 });
    await expect(turn.locator('.error-box')).toHaveCount(0);
    return (await reply.locator('.reply-text').innerText()).trim();
  };
  const before = await ask('What does ocean mean?');
  expect(before).not.toBe('');
  expect(await loseDevice(page)).toBe(true);
  const after = await ask('What does ocean mean?');
  expect(after).toBe(before); // greedy: the same reply from the weights uploaded again
});
