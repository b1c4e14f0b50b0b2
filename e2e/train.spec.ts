// The training journey on a tiny model (SwiftShader WebGPU): load from the mock Hub, import pre-tokenized
// rows, train a few steps with a validation split, see curves and the run in the history, find the adapter
// in the library and export it as a PEFT zip.
import { readFileSync } from 'node:fs';
import { expect, test } from '@playwright/test';
import { unzipSync } from 'fflate';
import { parseHeader } from '../src/engine/io/safetensors';
import { HUB_URL, TINY_REPO } from './env';
import { deviceBadge, importData, openApp, openTab, shot, typeInto } from './helpers';

test('trains a LoRA adapter and exports it', async ({ page }) => {
  test.setTimeout(360_000);
  await openApp(page);
  await deviceBadge(page);
  let panel = await openTab(page, 'Model');
  await panel.getByLabel('Hub endpoint').fill(HUB_URL);
  await panel.getByLabel('Hub repo id').fill(TINY_REPO);
  await panel.getByRole('button', { name: 'Load repo' }).click();
  await expect(panel.getByTestId('model-label')).toHaveText(TINY_REPO);

  panel = await openTab(page, 'Data');
  await importData(panel, 'tests/fixtures/golden/llama/data.jsonl');
  await expect(panel.getByRole('region', { name: 'Import report' })).toContainText(
    '4 rows imported (4 tokens)',
  );
  await typeInto(panel.getByLabel('Validation split'), '0.25');
  await panel.getByRole('button', { name: 'Preview row 1' }).click();
  await expect(panel.getByLabel('Template preview of row 1')).toContainText('⟨4⟩');

  panel = await openTab(page, 'Train');
  await typeInto(panel.getByLabel('Steps', { exact: true }), '3');
  await typeInto(panel.getByLabel('Batch size', { exact: true }), '2');
  await typeInto(panel.getByLabel('Max length', { exact: true }), '32');
  await panel.getByLabel('Run name').fill('e2e run');
  await panel.getByRole('button', { name: 'Start training' }).click();
  const progress = panel.getByRole('progressbar', { name: 'Training progress' });
  await expect(progress).toHaveAttribute('aria-valuetext', /^(done|failed|stopped) /, { timeout: 300_000 });
  await shot(page, 'train-finished');
  const failure = panel.locator('.run-progress [role="alert"]');
  if (await failure.count()) expect(await failure.innerText(), 'the run failed').toBe('');
  await expect(progress).toHaveAttribute('aria-valuetext', /^done · step 3 \/ 3/);
  const history = panel.getByRole('table', { name: 'Run history' });
  await expect(history).toContainText('e2e run');
  await expect(history).toContainText('done');
  await expect(history).toContainText('3 / 3');
  await shot(page, 'train-done');

  panel = await openTab(page, 'Adapters & Export');
  const lib = panel.getByRole('table', { name: 'Adapter library' });
  await expect(lib).toContainText(TINY_REPO);
  await expect(lib.getByLabel('Name of adapter e2e run')).toHaveValue('e2e run');
  const download = page.waitForEvent('download');
  await lib.getByRole('button', { name: 'Export e2e run as PEFT zip' }).click();
  const file = await (await download).path();
  const zip = unzipSync(new Uint8Array(readFileSync(file)));
  expect(Object.keys(zip).sort()).toEqual(['adapter_config.json', 'adapter_model.safetensors']);
  const config = JSON.parse(new TextDecoder().decode(zip['adapter_config.json']));
  expect(config).toMatchObject({
    peft_type: 'LORA',
    r: 8,
    lora_alpha: 16,
    target_modules: ['q_proj', 'v_proj'],
  });
  // keys and shapes as PEFT writes them, against the base model's dimensions
  const base = JSON.parse(readFileSync('tests/fixtures/golden/llama/model/config.json', 'utf8'));
  const hd = base.head_dim;
  const header = parseHeader(zip['adapter_model.safetensors'], 'adapter_model.safetensors');
  const expected: Record<string, number[]> = {};
  for (let i = 0; i < base.num_hidden_layers; i++) {
    const p = `base_model.model.model.layers.${i}.self_attn`;
    expected[`${p}.q_proj.lora_A.weight`] = [8, base.hidden_size];
    expected[`${p}.q_proj.lora_B.weight`] = [base.num_attention_heads * hd, 8];
    expected[`${p}.v_proj.lora_A.weight`] = [8, base.hidden_size];
    expected[`${p}.v_proj.lora_B.weight`] = [base.num_key_value_heads * hd, 8];
  }
  expect(Object.fromEntries([...header.entries].map(([k, e]) => [k, e.shape]))).toEqual(expected);
  for (const e of header.entries.values()) expect(e.dtype).toBe('F32');
  await shot(page, 'adapters-library');
});

test('pauses, resumes, survives a reload from its checkpoint, and stops with the adapter saved', async ({
  page,
}) => {
  test.setTimeout(360_000);
  await openApp(page);
  const loadModel = async () => {
    const p = await openTab(page, 'Model');
    await p.getByLabel('Hub endpoint').fill(HUB_URL);
    await p.getByLabel('Hub repo id').fill(TINY_REPO);
    await p.getByRole('button', { name: 'Load repo' }).click();
    await expect(p.getByTestId('model-label')).toHaveText(TINY_REPO);
  };
  await loadModel();
  let panel = await openTab(page, 'Data');
  await importData(panel, 'tests/fixtures/golden/llama/data.jsonl');
  await expect(panel.getByRole('region', { name: 'Import report' })).toContainText('4 rows imported');

  panel = await openTab(page, 'Train');
  await typeInto(panel.getByLabel('Steps', { exact: true }), '400');
  await typeInto(panel.getByLabel('Batch size', { exact: true }), '2');
  await typeInto(panel.getByLabel('Checkpoint every'), '2');
  await panel.getByLabel('Run name').fill('long run');
  await panel.getByRole('button', { name: 'Start training' }).click();
  const progress = panel.getByRole('progressbar', { name: 'Training progress' });
  await expect(progress).toHaveAttribute('aria-valuetext', /checkpoint at [2-9]/, { timeout: 120_000 });

  await panel.getByRole('button', { name: 'Pause' }).click();
  await expect(progress).toHaveAttribute('aria-valuetext', /^paused · step (\d+)/);
  const paused = Number(/step (\d+)/.exec((await progress.getAttribute('aria-valuetext'))!)![1]);
  await page.waitForTimeout(1500);
  await expect(progress).toHaveAttribute('aria-valuetext', new RegExp(`^paused · step ${paused} `));
  await panel.getByRole('button', { name: 'Resume' }).click();
  await expect(progress).toHaveAttribute('aria-valuetext', new RegExp(`^running · step (?!${paused} )`));

  // closing the page mid-run asks first; once left, the run is interrupted and resumes from its checkpoint
  page.once('dialog', (d) => {
    expect(d.type()).toBe('beforeunload');
    void d.accept();
  });
  await page.reload();
  await loadModel();
  panel = await openTab(page, 'Train');
  const history = panel.getByRole('table', { name: 'Run history' });
  const row = history.getByRole('row').filter({ hasText: 'long run' });
  await expect(row).toContainText('interrupted');
  const kept = Number(/(\d+) \/ 400/.exec(await row.innerText())![1]); // its last checkpoint
  expect(kept).toBeGreaterThanOrEqual(2);
  await row.getByRole('button', { name: 'Resume long run' }).click();
  // the bar starts from the kept step, as the history says, and goes on from there
  await expect(progress).toHaveAttribute(
    'aria-valuetext',
    new RegExp(`^(starting|running) · step ${kept} /`),
  );
  const step = async () => Number(/step (\d+)/.exec((await progress.getAttribute('aria-valuetext'))!)![1]);
  await expect.poll(step, { timeout: 120_000 }).toBeGreaterThan(kept);
  await expect(row).toContainText('running');
  await panel.getByRole('button', { name: 'Stop' }).click();
  await expect(progress).toHaveAttribute('aria-valuetext', /^stopped · step \d+/, { timeout: 60_000 });
  await expect(history).toContainText('stopped');
  await shot(page, 'train-stopped');

  panel = await openTab(page, 'Adapters & Export');
  const lib = panel.getByRole('table', { name: 'Adapter library' });
  await expect(
    lib.getByRole('textbox', { name: /^Name of adapter long run \(stopped at \d+\)$/ }),
  ).toBeVisible();
});
