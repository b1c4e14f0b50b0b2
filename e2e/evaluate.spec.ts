// The Evaluate tab on the embedded model (SwiftShader WebGPU): train an adapter that memorises three pairs,
// evaluate it beside the base on those rows, vote, export; the tab's numbers for each row equal the CLI's
// `evaluate` for the same model (--model embedded), the exported adapter and the same rows; the report is
// stored with the run and is there after a reload.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { unzipSync } from 'fflate';
import { deviceBadge, docShot, importData, openApp, openTab, shot } from './helpers';

const ROWS = 'e2e/fixtures/memorise.jsonl';
/** Steps that memorise the three rows on the embedded tiny model (as the journey spec trains it). */
const STEPS = 20;

async function trainMemorised(page: Page) {
  let panel = await openTab(page, 'Model');
  await panel.getByRole('button', { name: 'Load the embedded tiny model' }).click();
  await expect(panel.getByTestId('model-label')).toContainText('Embedded');
  panel = await openTab(page, 'Data');
  await importData(panel, ROWS);
  await expect(panel.getByRole('region', { name: 'Import report' })).toContainText('3 rows imported');
  await panel.getByLabel('Validation split').fill('0');
  panel = await openTab(page, 'Train');
  await panel.getByLabel('Rank', { exact: true }).fill('16');
  await panel.getByLabel('Alpha', { exact: true }).fill('32');
  await panel.getByLabel('LoRA dropout').fill('0');
  for (const m of ['k_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'])
    await panel.getByLabel(m).check();
  await panel.getByLabel('Learning rate').fill('0.003');
  await panel.getByLabel('Batch size', { exact: true }).fill('3');
  await panel.getByLabel('Max length', { exact: true }).fill('64');
  await panel.getByLabel('Steps', { exact: true }).fill(String(STEPS));
  await panel.getByLabel('Run name').fill('memorised');
  await panel.getByRole('button', { name: 'Start training' }).click();
  const progress = panel.getByRole('progressbar', { name: 'Training progress' });
  await expect(progress).toHaveAttribute('aria-valuetext', new RegExp(`^done · step ${STEPS} / ${STEPS}`), {
    timeout: 600_000,
  });
}

test('Evaluate: base vs tuned, votes, export; numbers equal the CLI; stored with the run', async ({
  page,
}, info) => {
  test.setTimeout(1_200_000);
  await openApp(page);
  await deviceBadge(page);
  await trainMemorised(page);

  let panel = await openTab(page, 'Evaluate');
  await panel.getByLabel('Adapter', { exact: true }).selectOption({ label: 'memorised' });
  await panel.getByLabel('Rows to evaluate').selectOption({ label: 'Dataset “memorise” (3 rows)' });
  await panel.getByLabel('Answer length (tokens)').fill('24');
  await expect(panel.getByLabel('Compare with the base model')).toBeChecked();
  await panel.getByRole('button', { name: 'Evaluate', exact: true }).click();
  const summary = panel.getByRole('group', { name: 'Summary' });
  await expect(summary).toBeVisible({ timeout: 300_000 });
  await expect(summary).toContainText('Exact (tuned)100 %');
  await expect(summary).toContainText('Exact (base)0 %');
  const rows = panel.getByRole('table', { name: 'Evaluation rows' });
  await expect(rows.getByLabel('Tuned answer 2').locator('.pre')).toHaveText('An apple.');
  await expect(panel).toContainText('Stored with run “memorised”.');

  // votes: the win rate over decided rows with its 95 % Wilson interval
  await rows
    .getByRole('group', { name: 'Vote on row 1' })
    .getByRole('button', { name: 'Tuned better' })
    .click();
  await rows
    .getByRole('group', { name: 'Vote on row 2' })
    .getByRole('button', { name: 'Tuned better' })
    .click();
  await rows.getByRole('group', { name: 'Vote on row 3' }).getByRole('button', { name: 'Tie' }).click();
  await expect(summary).toContainText('100 % (34 %–100 %) · 2–0, 1 tie');
  await shot(page, 'evaluate');
  await docShot(page, 'evaluate');

  // exports: the report (JSON, DESIGN §9) and CSV
  const dir = info.outputPath('exports');
  mkdirSync(dir, { recursive: true });
  let download = page.waitForEvent('download');
  await panel.getByRole('button', { name: 'Export JSON' }).click();
  const studio = JSON.parse(readFileSync(await (await download).path(), 'utf8'));
  download = page.waitForEvent('download');
  await panel.getByRole('button', { name: 'Export CSV' }).click();
  const csv = readFileSync(await (await download).path(), 'utf8');
  expect(csv.split('\n')[0]).toBe(
    'row,prompt,reference,prediction,exact,rougeL,loss,base_prediction,base_exact,base_rougeL,base_loss,vote',
  );
  expect(csv).toContain('tuned');

  // the same adapter through the CLI: the same predictions, exact, ROUGE-L; losses to float rounding
  panel = await openTab(page, 'Adapters & Export');
  download = page.waitForEvent('download');
  await panel.getByRole('button', { name: 'Export memorised as PEFT zip' }).click();
  const zip = unzipSync(new Uint8Array(readFileSync(await (await download).path())));
  const adapter = join(dir, 'adapter');
  mkdirSync(adapter, { recursive: true });
  for (const [name, bytes] of Object.entries(zip))
    if (!name.endsWith('/')) writeFileSync(join(adapter, basename(name)), bytes);
  const out = join(dir, 'cli-report.json');
  const r = spawnSync(
    process.execPath,
    ['--import', 'tsx', 'src/cli/main.ts', 'evaluate', '--model', 'embedded', '--adapter', adapter, '--compare',
      '--data', ROWS, '--out', out, '--max-new-tokens', '24', '--backend', 'cpu', '--quiet'], // prettier-ignore
    { encoding: 'utf8' },
  );
  expect(r.status, r.stderr).toBe(0);
  const cli = JSON.parse(readFileSync(out, 'utf8'));
  expect(studio.rows).toHaveLength(3);
  for (let i = 0; i < 3; i++) {
    for (const [s, c] of [
      [studio.rows[i], cli.rows[i]],
      [studio.rows[i].base, cli.rows[i].base],
    ]) {
      expect(s.prediction).toBe(c.prediction);
      expect(s.exact).toBe(c.exact);
      expect(s.rougeL).toBe(c.rougeL);
      expect(Math.abs(s.loss - c.loss) / Math.abs(c.loss)).toBeLessThan(2e-3);
    }
    expect(studio.rows[i].prompt).toBe(cli.rows[i].prompt);
  }

  // stored with the run: after a reload the report and its votes are there
  await page.reload();
  panel = await openTab(page, 'Evaluate');
  await panel.getByLabel('Adapter', { exact: true }).selectOption({ label: 'memorised' });
  const stored = panel.getByRole('list', { name: 'Stored reports' });
  await expect(stored).toContainText('exact 100 % vs base 0 %');
  await expect(stored).toContainText('3 votes');
  await stored.getByRole('button', { name: 'Open report 1' }).click();
  await expect(panel.getByRole('group', { name: 'Summary' })).toContainText('2–0, 1 tie');
});

test('Evaluate: a dataset without reference answers is one clear message', async ({ page }, info) => {
  await openApp(page);
  await deviceBadge(page);
  let panel = await openTab(page, 'Model');
  await panel.getByRole('button', { name: 'Load the embedded tiny model' }).click();
  await expect(panel.getByTestId('model-label')).toContainText('Embedded');
  const file = info.outputPath('text-only.jsonl');
  writeFileSync(file, '{"text": "Some plain text."}\n{"text": "More text."}\n');
  panel = await openTab(page, 'Data');
  await importData(panel, file);
  panel = await openTab(page, 'Evaluate');
  await panel.getByLabel('Rows to evaluate').selectOption({ label: 'Dataset “text-only” (2 rows)' });
  await panel.getByRole('button', { name: 'Evaluate', exact: true }).click();
  await expect(panel.getByRole('alert')).toHaveText(
    /^text-only row 1: a text row has no reference answer: evaluate needs rows that end in an answer/,
  );
  await expect(panel.getByRole('group', { name: 'Summary' })).toHaveCount(0);
});
