// The README's offline quick start as end-to-end steps, shared by the WebGPU and WebAssembly specs: load the
// embedded WordNet model and the example dataset, train DESIGN §11's ordinary LoRA, and count how often base
// and tuned answer held-out words' prompts in the taught dictionary-entry format.
import { readFileSync } from 'node:fs';
import { expect, type Locator, type Page } from '@playwright/test';
import { askedWord, followsCardFormat } from '../src/engine/testing/tiny-model-cards';
import { deviceBadge, docShot, openApp, openTab, shot, typeInto } from './helpers';

/** Prompts of public/data/wordnet-cards-heldout.jsonl: words no training row is about. */
const HELD_OUT = readFileSync('public/data/wordnet-cards-heldout.jsonl', 'utf8')
  .trim()
  .split('\n')
  .map((l) => (JSON.parse(l) as { messages: { content: string }[] }).messages[0]!.content);

async function ask(panel: Locator, text: string) {
  const clear = panel.getByRole('button', { name: 'Clear' });
  if (await clear.isEnabled()) await clear.click(); // disabled while the conversation is empty
  await panel.getByLabel('Message').fill(text);
  await panel.getByRole('button', { name: 'Send' }).click();
  const turn = panel.locator('.turn').first();
  for (const r of await turn.locator('.reply').all())
    await expect(r).toHaveAttribute('aria-busy', 'false', { timeout: 120_000 });
  await expect(turn.locator('.error-box')).toHaveCount(0);
  return {
    base: await turn.getByLabel('Base model reply').locator('.reply-text').innerText(),
    tuned: await turn
      .getByLabel(/^Tuned: .* reply$/)
      .locator('.reply-text')
      .innerText(),
  };
}

/** Loads the WordNet model and the example dataset, as the README's quick start does. */
export async function loadModelAndExamples(page: Page, backend: 'webgpu' | 'wasm' = 'webgpu') {
  await openApp(page);
  await expect(await deviceBadge(page)).toHaveAttribute('data-backend', backend);
  let panel = await openTab(page, 'Model');
  await panel.getByRole('button', { name: 'Load the embedded tiny model' }).click();
  await expect(panel.getByTestId('model-label')).toHaveText('Embedded WordNet model');
  await expect(panel.getByTestId('embedded-about')).toContainText('WordNet 3.0');
  await expect(panel.getByRole('region', { name: 'Model facts' })).toContainText('Vocabulary2,048');

  panel = await openTab(page, 'Data');
  await panel.getByRole('button', { name: 'Load the example dataset' }).click();
  await expect(panel.getByRole('region', { name: 'Import report' })).toContainText('50 rows imported');
  await expect(panel.getByRole('combobox', { name: 'Dataset' })).toContainText(
    'WordNet cards: held-out words (32)',
  );
  await typeInto(panel.getByLabel('Validation split'), '0');
  await expect(panel).toContainText('0 validation rows, 50 training rows');
  await panel.getByRole('button', { name: 'Preview row 1', exact: true }).click();
  const preview = panel.getByLabel('Template preview of row 1');
  await expect(preview.locator('.seg.trained')).toContainText("Dictionary entry: '");
  return panel;
}

/** The README's quick start: DESIGN §11's ordinary LoRA, then base vs tuned on held-out words' prompts. */
export async function teachAndCompare(page: Page, backend: 'webgpu' | 'wasm') {
  await loadModelAndExamples(page, backend);
  let panel: Locator;

  // DESIGN §11's ordinary settings: r 8, α 16, all linear layers, lr 1e-3, batch 8, 6 epochs, dropout 0
  panel = await openTab(page, 'Train');
  await typeInto(panel.getByLabel('Rank', { exact: true }), '8');
  await typeInto(panel.getByLabel('Alpha', { exact: true }), '16');
  await typeInto(panel.getByLabel('LoRA dropout'), '0');
  for (const m of ['k_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'])
    await panel.getByLabel(m).check();
  await typeInto(panel.getByLabel('Learning rate'), '0.001');
  await typeInto(panel.getByLabel('Batch size', { exact: true }), '8');
  await typeInto(panel.getByLabel('Max length', { exact: true }), '96');
  await typeInto(panel.getByLabel('Steps', { exact: true }), '0');
  await typeInto(panel.getByLabel('Epochs', { exact: true }), '6');
  await panel.getByLabel('Run name').fill('cards');
  const started = Date.now();
  await panel.getByRole('button', { name: 'Start training' }).click();
  const progress = panel.getByRole('progressbar', { name: 'Training progress' });
  await expect(progress).toHaveAttribute('aria-valuetext', /^(done|failed|stopped) /, {
    timeout: backend === 'wasm' ? 600_000 : 6 * 3600_000,
  });
  const failure = panel.locator('.run-progress [role="alert"]');
  if (await failure.count()) expect(await failure.innerText(), 'the run failed').toBe('');
  await expect(progress).toHaveAttribute('aria-valuetext', /^done · step 42 \/ 42/);
  console.log(`${backend}: trained 42 steps in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  await shot(page, `example-train-${backend}`);

  panel = await openTab(page, 'Chat');
  await typeInto(panel.getByLabel('Max new tokens'), '40');
  await typeInto(panel.getByLabel('Temperature'), '0');
  await panel.getByLabel('Adapter', { exact: true }).selectOption({ label: 'cards' });
  await panel.getByLabel('Compare base and tuned side by side').check();
  // all 32 on WebAssembly; 8 on software WebGPU, where each reply takes much longer
  const prompts = backend === 'wasm' ? HELD_OUT : HELD_OUT.slice(0, 8);
  let tuned = 0;
  let base = 0;
  for (const q of prompts) {
    const r = await ask(panel, q);
    const word = askedWord(q);
    if (followsCardFormat(r.tuned, word)) tuned++;
    if (followsCardFormat(r.base, word)) base++;
  }
  console.log(
    `${backend}: dictionary-entry format on ${prompts.length} held-out prompts: tuned ${tuned}, base ${base}`,
  );
  await shot(page, `example-chat-${backend}`);
  if (backend === 'wasm') await docShot(page, 'example-chat');
  // DESIGN §11's bar: the tuned model follows the format on ≥ 70 % of held-out prompts, the base on ≤ 10 %
  expect(tuned).toBeGreaterThanOrEqual(0.7 * prompts.length);
  expect(base).toBeLessThanOrEqual(0.1 * prompts.length);
}
