// The whole journey on the embedded tiny chat model (SwiftShader WebGPU): load it, import rows and see token
// counts and the template preview with trained tokens, chat with the base model, train an adapter that
// memorises three chat pairs (the loss falls), then compare base and tuned side by side: greedy, the tuned
// model answers each trained prompt with its trained answer and the base model does not. After a reload the
// dataset, the finished run and the adapter are still there, and the stored adapter still answers.
// `UPDATE_DOCS=1 npx playwright test e2e/journey.spec.ts` also refreshes the README's docs/studio.png.
import { expect, test, type Locator, type Page } from '@playwright/test';
import { deviceBadge, docShot, importData, openApp, openTab, shot, typeInto } from './helpers';

/** Rows of e2e/fixtures/memorise.jsonl. */
const PAIRS = [
  ['What color is the sky?', 'The sky is blue.'],
  ['Name a fruit.', 'An apple.'],
  ['Say goodbye.', 'Goodbye, see you soon!'],
] as const;
/** Fewest steps that memorise PAIRS with margin (the CLI on CPU needs 12; the loss is ~0.04 at 20). */
const STEPS = 20;

async function loadEmbedded(page: Page) {
  const panel = await openTab(page, 'Model');
  await panel.getByRole('button', { name: 'Load the embedded tiny model' }).click();
  await expect(panel.getByTestId('model-label')).toHaveText('Embedded WordNet model');
  return panel;
}

/** Sends a message and waits for every reply of the new turn; returns the turn's reply boxes. */
async function ask(panel: Locator, text: string) {
  const turns = panel.locator('.turn');
  const n = await turns.count();
  await panel.getByLabel('Message').fill(text);
  await panel.getByRole('button', { name: 'Send' }).click();
  const turn = turns.nth(n);
  await expect(turn.getByLabel('You')).toHaveText(text);
  const replies = turn.locator('.reply');
  await expect(replies.first()).toBeVisible();
  for (const r of await replies.all())
    await expect(r).toHaveAttribute('aria-busy', 'false', { timeout: 120_000 });
  await expect(turn.locator('.error-box')).toHaveCount(0);
  return {
    base: turn.getByLabel('Base model reply').locator('.reply-text'),
    tuned: turn.getByLabel(/^Tuned: .* reply$/).locator('.reply-text'),
  };
}

test('embedded model: data preview, chat, train until it memorises, compare, reload', async ({ page }) => {
  test.setTimeout(360_000);
  await openApp(page);
  await expect(await deviceBadge(page)).toHaveAttribute('data-backend', 'webgpu');

  let panel = await loadEmbedded(page);
  const facts = panel.getByRole('region', { name: 'Model facts' });
  await expect(facts).toContainText('qwen3');
  await expect(facts).toContainText('Vocabulary2,048');
  await expect(facts).toContainText('Chat templateyes');

  panel = await openTab(page, 'Data');
  await importData(panel, 'e2e/fixtures/chat.jsonl');
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

  // the rows to memorise, as a second dataset (the active one), all of them trained
  await importData(panel, 'e2e/fixtures/memorise.jsonl');
  await expect(panel.getByRole('region', { name: 'Import report' })).toContainText('3 rows imported');
  await typeInto(panel.getByLabel('Validation split'), '0');
  await expect(panel).toContainText('0 validation rows, 3 training rows');

  panel = await openTab(page, 'Chat');
  await typeInto(panel.getByLabel('Max new tokens'), '16');
  await typeInto(panel.getByLabel('Temperature'), '0');
  const hello = await ask(panel, 'Hello');
  await expect(hello.base).not.toBeEmpty();
  await expect(panel.locator('.turn').first()).toContainText(/\d+ tokens/);

  panel = await openTab(page, 'Train');
  await typeInto(panel.getByLabel('Rank', { exact: true }), '16');
  await typeInto(panel.getByLabel('Alpha', { exact: true }), '32');
  await typeInto(panel.getByLabel('LoRA dropout'), '0');
  for (const m of ['k_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'])
    await panel.getByLabel(m).check();
  await typeInto(panel.getByLabel('Learning rate'), '0.003');
  await typeInto(panel.getByLabel('Batch size', { exact: true }), '3');
  await typeInto(panel.getByLabel('Max length', { exact: true }), '64');
  await typeInto(panel.getByLabel('Steps', { exact: true }), String(STEPS));
  await panel.getByLabel('Run name').fill('memorised');
  await panel.getByRole('button', { name: 'Start training' }).click();
  const progress = panel.getByRole('progressbar', { name: 'Training progress' });
  await expect(progress).toHaveAttribute('aria-valuetext', /^(done|failed|stopped) /, { timeout: 300_000 });
  const failure = panel.locator('.run-progress [role="alert"]');
  if (await failure.count()) expect(await failure.innerText(), 'the run failed').toBe('');
  await expect(progress).toHaveAttribute('aria-valuetext', new RegExp(`^done · step ${STEPS} / ${STEPS}`));
  // the loss chart's accessible name gives the first and the last training loss
  const chart = panel.getByRole('img', { name: /^Training and validation loss by step/ });
  const name = (await chart.getAttribute('aria-label')) ?? '';
  const m = /train loss ([\d.]+) at step 1, ([\d.]+) at step (\d+)/.exec(name);
  expect(m, name).not.toBeNull();
  const [first, last] = [Number(m![1]), Number(m![2])];
  expect(Number(m![3])).toBe(STEPS);
  expect(last).toBeLessThan(first / 10);
  expect(last).toBeLessThan(0.5);
  await shot(page, 'journey-train');

  panel = await openTab(page, 'Chat');
  await panel.getByLabel('Adapter', { exact: true }).selectOption({ label: 'memorised' });
  await panel.getByLabel('Compare base and tuned side by side').check();
  for (const [q, a] of PAIRS) {
    // each pair was trained as a conversation of its own: ask it in a new one (no earlier turns)
    await panel.getByRole('button', { name: 'Clear' }).click();
    const r = await ask(panel, q);
    await expect(r.tuned).toHaveText(a, { useInnerText: true });
    expect(await r.tuned.innerText()).toBe(a);
    expect(await r.base.innerText()).not.toBe(a);
  }
  await shot(page, 'journey-chat');
  await openTab(page, 'Train');
  await docShot(page, 'studio');

  // everything survives a reload: the dataset, the finished run, the adapter and its weights
  await page.reload();
  panel = await openTab(page, 'Data');
  const datasets = panel.getByRole('combobox', { name: 'Dataset' });
  await expect(datasets).toContainText('chat (8)');
  await expect(datasets).toContainText('memorise (3)');
  panel = await openTab(page, 'Train');
  const history = panel.getByRole('table', { name: 'Run history' });
  const run = history.getByRole('row').filter({ hasText: 'memorised' });
  await expect(run).toContainText('done');
  await expect(run).toContainText(`${STEPS} / ${STEPS}`);
  await expect(run).toContainText('memorise');
  panel = await openTab(page, 'Adapters & Export');
  const lib = panel.getByRole('table', { name: 'Adapter library' });
  await expect(lib.getByLabel('Name of adapter memorised')).toHaveValue('memorised');
  await expect(lib).toContainText('16 / 32');
  await shot(page, 'journey-after-reload');

  await loadEmbedded(page);
  panel = await openTab(page, 'Chat');
  await typeInto(panel.getByLabel('Max new tokens'), '16');
  await typeInto(panel.getByLabel('Temperature'), '0');
  await panel.getByLabel('Adapter', { exact: true }).selectOption({ label: 'memorised' });
  const again = await ask(panel, PAIRS[0][0]);
  expect(await again.tuned.innerText()).toBe(PAIRS[0][1]);
});
