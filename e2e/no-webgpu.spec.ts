// A browser without WebGPU: Chromium launched without --enable-unsafe-webgpu has navigator.gpu (page and
// worker) but grants no adapter, as on many machines. The engine falls back to WebAssembly, the page says
// so in a visible notice, and training and chat still work on the embedded model.
import { expect, test } from '@playwright/test';
import { CHROMIUM, CHROMIUM_ARGS } from './env';
import { deviceBadge, importData, openApp, openTab, shot, typeInto } from './helpers';

test.use({ launchOptions: { executablePath: CHROMIUM, args: CHROMIUM_ARGS } });

test('without WebGPU the studio falls back to WebAssembly, says so, and still trains', async ({ page }) => {
  test.setTimeout(180_000);
  await openApp(page);
  const badge = await deviceBadge(page);
  await expect(badge).toHaveAttribute('data-backend', 'wasm');
  await expect(badge).toContainText('WebAssembly (CPU');
  const notice = page.getByRole('status', { name: 'Backend notice' });
  await expect(notice).toContainText('No WebGPU here');
  await expect(notice).toContainText('no adapter granted');
  await expect(notice).toContainText('WebAssembly');

  let panel = await openTab(page, 'Model');
  await panel.getByRole('button', { name: 'Load the embedded tiny model' }).click();
  await expect(panel.getByTestId('model-label')).toHaveText('Embedded WordNet model');
  panel = await openTab(page, 'Data');
  await importData(panel, 'e2e/fixtures/memorise.jsonl');
  await expect(panel.getByRole('region', { name: 'Import report' })).toContainText('3 rows imported');

  panel = await openTab(page, 'Train');
  await typeInto(panel.getByLabel('Steps', { exact: true }), '2');
  await typeInto(panel.getByLabel('Batch size', { exact: true }), '3');
  await typeInto(panel.getByLabel('Max length', { exact: true }), '64');
  await panel.getByLabel('Run name').fill('on wasm');
  await panel.getByRole('button', { name: 'Start training' }).click();
  // the first steps' warm-up reads as progress, with its cause, not as a frozen step
  await expect(panel.getByRole('status', { name: 'Current step' })).toContainText(
    /step 1 running for \d+ s: the first steps on WebAssembly are slower while the browser optimises the engine/,
  );
  const progress = panel.getByRole('progressbar', { name: 'Training progress' });
  await expect(progress).toHaveAttribute('aria-valuetext', /^(done|failed|stopped) /, { timeout: 120_000 });
  const failure = panel.locator('.run-progress [role="alert"]');
  if (await failure.count()) expect(await failure.innerText(), 'the run failed').toBe('');
  await expect(progress).toHaveAttribute('aria-valuetext', /^done · step 2 \/ 2 · loss \d+\.\d+/);
  await shot(page, 'no-webgpu-train');

  panel = await openTab(page, 'Chat');
  await typeInto(panel.getByLabel('Max new tokens'), '4');
  await typeInto(panel.getByLabel('Temperature'), '0');
  await panel.getByLabel('Adapter', { exact: true }).selectOption({ label: 'on wasm' });
  await panel.getByLabel('Message').fill('Name a fruit.');
  await panel.getByRole('button', { name: 'Send' }).click();
  const reply = panel.getByLabel('Tuned: on wasm reply');
  await expect(reply).toHaveAttribute('aria-busy', 'false', { timeout: 60_000 });
  await expect(reply.locator('.error-box')).toHaveCount(0);
  await expect(reply).toContainText(/\d+ tokens/);
});
