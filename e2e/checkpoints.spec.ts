// Checkpoints by time on the tiny model (SwiftShader WebGPU): with the default settings a run keeps a
// checkpoint every 60 s; a reload in the middle of a run leaves it interrupted at that checkpoint, Resume
// continues from it, and the run ends with the same adapter as a run never interrupted (same seed).
import { readFileSync } from 'node:fs';
import { expect, test, type Page } from '@playwright/test';
import { unzipSync } from 'fflate';
import { parseHeader, readFloat32 } from '../src/engine/io/safetensors';
import { importGoldenRows, loadTinyRepo, openApp, openTab, shot, typeInto } from './helpers';

const STEPS = 10;

/** The adapter of library entry `name`, exported as a PEFT zip: tensor name → values. */
async function exported(page: Page, name: string): Promise<Map<string, Float32Array>> {
  const lib = (await openTab(page, 'Adapters & Export')).getByRole('table', { name: 'Adapter library' });
  const download = page.waitForEvent('download');
  await lib.getByRole('button', { name: `Export ${name} as PEFT zip` }).click();
  const zip = unzipSync(new Uint8Array(readFileSync(await (await download).path())));
  const bytes = zip['adapter_model.safetensors'];
  const header = parseHeader(bytes, name);
  return new Map([...header.entries].map(([k, e]) => [k, readFloat32(bytes, e, name, k)]));
}

test('reload in the middle of a run with default settings: it resumes from its checkpoint and ends with the uninterrupted adapter', async ({
  page,
}) => {
  test.setTimeout(600_000);
  await openApp(page);
  await loadTinyRepo(page);
  await importGoldenRows(page);
  let panel = await openTab(page, 'Train');
  // checkpoints are time-based by default (60 s) and not by steps
  const seconds = panel.getByLabel('Seconds between checkpoints');
  await expect(seconds).toHaveValue('60');
  await expect(panel.getByLabel('Checkpoint every (steps)')).toHaveValue('0');
  // a few seconds instead of a minute, so that a checkpoint comes soon on the software adapter
  await typeInto(seconds, '2');
  await typeInto(panel.getByLabel('Steps', { exact: true }), String(STEPS));
  await typeInto(panel.getByLabel('Batch size', { exact: true }), '2');
  const progress = panel.getByRole('progressbar', { name: 'Training progress' });
  const history = panel.getByRole('table', { name: 'Run history' });

  await test.step('an uninterrupted run', async () => {
    await panel.getByLabel('Run name').fill('whole run');
    await panel.getByRole('button', { name: 'Start training' }).click();
    await expect(progress).toHaveAttribute('aria-valuetext', new RegExp(`^done · step ${STEPS} / ${STEPS}`), {
      timeout: 240_000,
    });
  });

  let kept = 0;
  await test.step('the same run, reloaded once it has a timed checkpoint', async () => {
    await panel.getByLabel('Run name').fill('reloaded run');
    await panel.getByRole('button', { name: 'Start training' }).click();
    await expect(progress).toHaveAttribute('aria-valuetext', /^running · step \d+ .*checkpoint at [1-9]/, {
      timeout: 120_000,
    });
    page.once('dialog', (d) => void d.accept());
    await page.reload();
    await loadTinyRepo(page);
    panel = await openTab(page, 'Train');
    const row = history.getByRole('row').filter({ hasText: 'reloaded run' });
    await expect(row).toContainText('interrupted');
    kept = Number(new RegExp(`(\\d+) / ${STEPS}`).exec(await row.innerText())![1]);
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(STEPS);
    await row.getByRole('button', { name: 'Resume reloaded run' }).click();
    await expect(progress).toHaveAttribute(
      'aria-valuetext',
      new RegExp(`^(starting|running) · step ${kept} /`),
    );
    await expect(progress).toHaveAttribute('aria-valuetext', new RegExp(`^done · step ${STEPS} / ${STEPS}`), {
      timeout: 240_000,
    });
    await expect(row).toContainText('done');
  });

  const whole = await exported(page, 'whole run');
  const resumed = await exported(page, 'reloaded run');
  expect([...resumed.keys()].sort()).toEqual([...whole.keys()].sort());
  let worst = 0;
  for (const [k, a] of whole) {
    const b = resumed.get(k)!;
    for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  }
  console.log(`resumed from step ${kept}: largest difference from the uninterrupted adapter ${worst}`);
  expect(worst).toBeLessThan(1e-5);
  // the run trained (B starts at zero), so equal adapters are not two untouched ones
  const trainedB = [...whole].filter(([k]) => k.includes('lora_B')).map(([, t]) => t);
  expect(trainedB.some((t) => t.some((x) => x !== 0))).toBe(true);
});

test('a resume on a changed dataset is refused with a message; the run stays resumable at its checkpoint', async ({
  page,
}) => {
  test.setTimeout(300_000);
  await openApp(page);
  await loadTinyRepo(page);
  await importGoldenRows(page);
  let panel = await openTab(page, 'Train');
  await typeInto(panel.getByLabel('Steps', { exact: true }), '400');
  await typeInto(panel.getByLabel('Batch size', { exact: true }), '2');
  await panel.getByLabel('Run name').fill('changed data run');
  await panel.getByRole('button', { name: 'Start training' }).click();
  const progress = panel.getByRole('progressbar', { name: 'Training progress' });
  await expect(progress).toHaveAttribute('aria-valuetext', /^running · step [1-9]/, { timeout: 120_000 });
  // a pause writes a checkpoint; then the page goes away
  await panel.getByRole('button', { name: 'Pause' }).click();
  await expect(progress).toHaveAttribute('aria-valuetext', /^paused · step \d+ .*checkpoint at [1-9]/);
  page.once('dialog', (d) => void d.accept());
  await page.reload();
  await loadTinyRepo(page);
  panel = await openTab(page, 'Train');
  const row = panel
    .getByRole('table', { name: 'Run history' })
    .getByRole('row')
    .filter({ hasText: 'changed data run' });
  await expect(row).toContainText('interrupted');
  const kept = Number(/(\d+) \/ 400/.exec(await row.innerText())![1]);
  expect(kept).toBeGreaterThan(0);

  const data = await openTab(page, 'Data');
  await data.getByRole('button', { name: 'Delete row 4' }).click();
  await expect(data.getByRole('combobox', { name: 'Dataset' })).toContainText('data (3)');
  await openTab(page, 'Train');
  await row.getByRole('button', { name: 'Resume changed data run' }).click();
  await expect(
    page
      .getByRole('alert')
      .filter({ hasText: `the dataset changed since the checkpoint of step ${kept} was saved` })
      .first(),
  ).toContainText('resume with the data it was trained on, or start a new run');
  // nothing was rewound or restarted: the run is as it was, still resumable from the same step
  await expect(row).toContainText('interrupted');
  await expect(row).toContainText(`${kept} / 400`);
  await expect(row.getByRole('button', { name: 'Resume changed data run' })).toBeEnabled();
  await expect(progress).not.toHaveAttribute('aria-valuetext', /^failed/);
});

test('a NaN loss from an absurd learning rate pauses the run at its last good step, with a message; it resumes at a lower rate', async ({
  page,
}) => {
  test.setTimeout(300_000);
  await openApp(page);
  await loadTinyRepo(page);
  await importGoldenRows(page);
  const panel = await openTab(page, 'Train');
  await typeInto(panel.getByLabel('Steps', { exact: true }), '6');
  await typeInto(panel.getByLabel('Batch size', { exact: true }), '2');
  await typeInto(panel.getByLabel('Learning rate'), '1e30');
  const targets = panel.getByRole('group', { name: 'Target modules' });
  for (const t of ['k_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'])
    await targets.getByLabel(t).check();
  await panel.getByLabel('Run name').fill('nan run');
  await panel.getByRole('button', { name: 'Start training' }).click();
  const alert = page.getByRole('alert').filter({ hasText: 'so its update was not applied' }).first();
  await expect(alert).toContainText(/step (\d+): the (loss|gradient norm) was (NaN|-?Infinity)/, {
    timeout: 120_000,
  });
  const bad = Number(/step (\d+):/.exec(await alert.innerText())![1]);
  expect(bad).toBeGreaterThan(1);
  await expect(alert).toContainText(
    `the run is paused at step ${bad - 1}, its last good state. Try a lower learning rate (this run's is 1e+30).`,
  );
  const progress = panel.getByRole('progressbar', { name: 'Training progress' });
  await expect(progress).toHaveAttribute('aria-valuetext', new RegExp(`^paused · step ${bad - 1} / 6`));
  const row = panel
    .getByRole('table', { name: 'Run history' })
    .getByRole('row')
    .filter({ hasText: 'nan run' });
  await expect(row).toContainText('paused');
  await expect(row).toContainText(`${bad - 1} / 6`);
  // the row offers the run's rate for the resume; the lowered rate is the run's from the kept step on. (Here
  // the one step taken at 1e30 already blew the weights up, so the resumed step fails again, at the new rate.)
  const lr = row.getByLabel('Peak LR when resuming nan run');
  await expect(lr).toHaveValue('1e+30');
  await typeInto(lr, '0.001');
  await row.getByRole('button', { name: 'Resume nan run' }).click();
  await expect(
    page.getByRole('alert').filter({ hasText: "Try a lower learning rate (this run's is 0.001)." }).first(),
  ).toContainText(`the run is paused at step ${bad - 1}`, { timeout: 120_000 });
  await expect(row).toContainText('paused');
  await expect(row.getByLabel('Peak LR when resuming nan run')).toHaveValue('0.001');
  await shot(page, 'nan-run-paused');
});
