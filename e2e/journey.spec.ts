// The whole journey on the embedded tiny chat model (SwiftShader WebGPU): load it, import rows and see
// token counts and the template preview with trained tokens, chat with the base model, train an adapter,
// then compare base and tuned replies side by side.
import { expect, test } from '@playwright/test';
import { deviceBadge, openApp, openTab, shot } from './helpers';

test('embedded model: data preview, chat, train, compare', async ({ page }) => {
  test.setTimeout(360_000);
  await openApp(page);
  await deviceBadge(page);

  let panel = await openTab(page, 'Model');
  await panel.getByRole('button', { name: 'Load the embedded tiny model' }).click();
  const facts = panel.getByRole('region', { name: 'Model facts' });
  await expect(facts.getByTestId('model-label')).toHaveText('Embedded tiny model');
  await expect(facts).toContainText('qwen3');
  await expect(facts).toContainText('Vocabulary2,048');
  await expect(facts).toContainText('Chat templateyes');

  panel = await openTab(page, 'Data');
  await panel.getByLabel('Import dataset file').setInputFiles('e2e/fixtures/chat.jsonl');
  await expect(panel.getByRole('region', { name: 'Import report' })).toContainText('8 rows imported');
  const table = panel.getByRole('table', { name: 'Rows of chat' });
  await panel.getByRole('button', { name: 'Preview row 2' }).click();
  const preview = panel.getByLabel('Template preview of row 2');
  await expect(preview).toContainText('<|im_start|>user');
  await expect(preview.locator('.seg.trained')).toContainText('The sky is blue.');
  await expect(preview.locator('.seg.prompt').first()).toContainText('What color is the sky?');
  await expect(table.getByRole('row').nth(1).getByRole('cell').nth(4)).toHaveText(/^\d+$/);
  await expect(panel).toContainText('Rows counted');
  await shot(page, 'journey-data');

  panel = await openTab(page, 'Chat');
  await panel.getByLabel('Max new tokens').fill('6');
  await panel.getByLabel('Temperature').fill('0');
  await panel.getByLabel('Message').fill('Hello');
  await panel.getByRole('button', { name: 'Send' }).click();
  const base = panel.getByLabel('Base model reply');
  await expect(base).toHaveAttribute('aria-busy', 'false', { timeout: 120_000 });
  await expect(base.locator('.error-box')).toHaveCount(0);
  await expect(base).toContainText(/\d+ tokens/);

  panel = await openTab(page, 'Train');
  await panel.getByLabel('Steps', { exact: true }).fill('4');
  await panel.getByLabel('Batch size', { exact: true }).fill('2');
  await panel.getByLabel('Max length', { exact: true }).fill('64');
  await panel.getByLabel('Learning rate').fill('0.01');
  await panel.getByLabel('Run name').fill('tiny chat');
  await panel.getByRole('button', { name: 'Start training' }).click();
  const progress = panel.getByRole('progressbar', { name: 'Training progress' });
  await expect(progress).toHaveAttribute('aria-valuetext', /^(done|failed|stopped) /, { timeout: 300_000 });
  const failure = panel.locator('.run-progress [role="alert"]');
  if (await failure.count()) expect(await failure.innerText(), 'the run failed').toBe('');
  await expect(progress).toHaveAttribute('aria-valuetext', /^done · step 4 \/ 4/);
  await shot(page, 'journey-train');

  panel = await openTab(page, 'Chat');
  await panel.getByLabel('Adapter', { exact: true }).selectOption({ label: 'tiny chat' });
  await panel.getByLabel('Compare base and tuned side by side').check();
  await panel.getByLabel('Message').fill('What color is the sky?');
  await panel.getByRole('button', { name: 'Send' }).click();
  const tuned = panel.getByLabel('Tuned: tiny chat reply');
  await expect(tuned).toHaveAttribute('aria-busy', 'false', { timeout: 120_000 });
  await expect(panel.getByLabel('Base model reply')).toHaveCount(2);
  await expect(tuned.locator('.error-box')).toHaveCount(0);
  await shot(page, 'journey-chat');
});
