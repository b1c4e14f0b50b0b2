// The studio under faults, on the tiny model (SwiftShader WebGPU). Each fault is one named step that checks
// the message the user sees and that the dataset, the last checkpoint and the saved adapters are intact:
// number fields typed key by key, a double click on Start, loads and deletions refused while a run trains,
// leaving mid-run, a full disk in the worker, the engine worker dying, and a run owned by another tab.
import { readFileSync, writeFileSync } from 'node:fs';
import { expect, test, type Locator, type Page } from '@playwright/test';
import { TINY_REPO } from './env';
import {
  expectUserDataIntact,
  importData,
  importGoldenRows,
  loadTinyRepo,
  openApp,
  openTab,
  shot,
  typeInto,
} from './helpers';

/** Model, 4 pre-tokenized rows, and a long run's settings (a checkpoint every step). */
async function prepare(page: Page) {
  await loadTinyRepo(page);
  await importGoldenRows(page);
  const panel = await openTab(page, 'Train');
  await typeInto(panel.getByLabel('Steps', { exact: true }), '400');
  await typeInto(panel.getByLabel('Batch size', { exact: true }), '2');
  await typeInto(panel.getByLabel('Checkpoint every'), '1');
  return panel;
}

const stepOf = async (progress: Locator) =>
  Number(/step (\d+)/.exec((await progress.getAttribute('aria-valuetext')) ?? '')?.[1] ?? -1);

test('number fields keep what is typed; invalid text is marked and blocks Start', async ({ page }) => {
  await openApp(page);
  await loadTinyRepo(page);
  const data = await openTab(page, 'Data');
  await importData(data, 'tests/fixtures/golden/llama/data.jsonl');
  const panel = await openTab(page, 'Train');
  const lr = panel.getByLabel('Learning rate');
  const wd = panel.getByLabel('Weight decay');
  await typeInto(lr, '0.0002');
  await typeInto(wd, '0.01');
  await expect(lr).toHaveValue('0.0002');
  await expect(wd).toHaveValue('0.01');

  const steps = panel.getByLabel('Steps', { exact: true });
  await typeInto(steps, '12x');
  await expect(steps).toHaveAttribute('aria-invalid', 'true');
  await expect(steps).toHaveValue('12x'); // kept as typed, not rewritten
  await expect(steps).toHaveAccessibleDescription(/"12x" is not a number/);
  const start = panel.getByRole('button', { name: 'Start training' });
  await expect(start).toBeDisabled();
  await expect(panel).toContainText('Fix Steps: "12x" is not a number');
  await typeInto(steps, '2.5');
  await expect(steps).toHaveAccessibleDescription(/must be a whole number/);
  await typeInto(steps, '12');
  await expect(steps).not.toHaveAttribute('aria-invalid');
  await expect(start).toBeEnabled();

  // the chat tab's fields and the data tab's split behave the same
  const chat = await openTab(page, 'Chat');
  const maxNew = chat.getByLabel('Max new tokens');
  await typeInto(maxNew, '0');
  await expect(maxNew).toHaveAttribute('aria-invalid', 'true');
  await expect(maxNew).toHaveAccessibleDescription(/must be at least 1/);
  const data2 = await openTab(page, 'Data');
  const split = data2.getByLabel('Validation split');
  await typeInto(split, '0.25');
  await expect(split).toHaveValue('0.25');
  await expect(data2).toContainText('1 validation rows, 3 training rows');

  // what was committed is what is kept (saved with the form, read back after a reload)
  await page.waitForTimeout(800);
  await page.reload();
  const again = await openTab(page, 'Train');
  await expect(again.getByLabel('Learning rate')).toHaveValue('0.0002');
  await expect(again.getByLabel('Weight decay')).toHaveValue('0.01');
  await expect(again.getByLabel('Steps', { exact: true })).toHaveValue('12');
});

test('a run under faults: double Start, refused loads and deletions, full disk, leaving, a dead worker', async ({
  page,
}) => {
  test.setTimeout(360_000);
  await openApp(page);
  await prepare(page);
  // an adapter saved before the run, which no fault may touch
  let lib = await openTab(page, 'Adapters & Export');
  await lib
    .getByLabel('Import PEFT adapter folder')
    .setInputFiles('tests/fixtures/golden/llama/adapter_after');
  await expect(lib.getByLabel('Name of adapter adapter_after')).toHaveValue('adapter_after');
  let panel = await openTab(page, 'Train');
  await panel.getByLabel('Run name').fill('faults run');
  const progress = panel.getByRole('progressbar', { name: 'Training progress' });
  const history = panel.getByRole('table', { name: 'Run history' });
  const row = history.getByRole('row').filter({ hasText: 'faults run' });
  /** The dataset and the saved adapter are as they were; back on the Train tab. */
  const intact = async () => {
    await expectUserDataIntact(page);
    panel = await openTab(page, 'Train');
  };

  await test.step('a real double click on Start starts one run, which the second click does not pause', async () => {
    await panel.getByRole('button', { name: 'Start training' }).dblclick();
    await expect(progress).toHaveAttribute('aria-valuetext', /^running · step [1-9]/, { timeout: 120_000 });
    await expect(row).toHaveCount(1);
    await page.waitForTimeout(1500);
    await expect(progress).toHaveAttribute('aria-valuetext', /^running /);
  });

  await test.step('a model load, an adapter import and deleting the dataset are refused while it trains', async () => {
    const model = await openTab(page, 'Model');
    await model.getByRole('button', { name: 'Load repo' }).click();
    const refusal = page.getByRole('alert').filter({ hasText: 'cannot be loaded while a run trains' });
    await expect(refusal).toContainText('("faults run"): stop the run, or wait until it ends');
    await expect(model.getByTestId('model-label')).toHaveText(TINY_REPO);
    lib = await openTab(page, 'Adapters & Export');
    await lib
      .getByLabel('Import PEFT adapter folder')
      .setInputFiles('tests/fixtures/golden/llama/adapter_init');
    await expect(
      page
        .getByRole('alert')
        .filter({ hasText: 'adapter "adapter_init" cannot be imported while a run trains' }),
    ).toBeVisible();
    const data = await openTab(page, 'Data');
    await data.getByRole('button', { name: 'Delete dataset' }).click();
    await data.getByRole('button', { name: 'Confirm delete' }).click();
    await expect(
      page
        .getByRole('alert')
        .filter({ hasText: 'the dataset cannot be deleted while run "faults run" trains' }),
    ).toBeVisible();
    await intact();
    const before = await stepOf(progress);
    await expect.poll(() => stepOf(progress), { timeout: 60_000 }).toBeGreaterThan(before);
  });

  await test.step('leaving the page mid-run asks first', async () => {
    const asked = page.waitForEvent('dialog');
    void page.reload({ timeout: 3000 }).catch(() => undefined);
    const dialog = await asked;
    expect(dialog.type()).toBe('beforeunload');
    await dialog.dismiss();
    await expect(progress).toHaveAttribute('aria-valuetext', /^running /);
  });

  await test.step('a paused run is not deleted without stopping it; bar and history show one step', async () => {
    await panel.getByRole('button', { name: 'Pause' }).click();
    await expect(progress).toHaveAttribute('aria-valuetext', /^paused · step \d+/);
    const paused = await stepOf(progress);
    await expect(row).toContainText(`paused`);
    await expect(row).toContainText(`${paused} / 400`);
    await row.getByRole('button', { name: 'Delete run faults run' }).click();
    await expect(row).toContainText('The run is training.');
    await expect(row.getByRole('button', { name: 'Stop and delete run faults run' })).toBeVisible();
    await row.getByRole('button', { name: 'Cancel' }).click();
    await panel.getByRole('button', { name: 'Resume' }).click();
    await expect(progress).toHaveAttribute('aria-valuetext', new RegExp(`^running · step (?!${paused} )`));
  });

  await test.step('storage full in the worker: the run pauses at its last checkpoint, says so, resumes', async () => {
    const worker = page.workers().find((w) => w.url().includes('engine'))!;
    await worker.evaluate(() => {
      const real = IDBObjectStore.prototype.put;
      (globalThis as { __realPut?: unknown }).__realPut = real;
      IDBObjectStore.prototype.put = function (this: IDBObjectStore, ...args: Parameters<typeof real>) {
        if (this.name === 'metrics')
          throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
        return real.apply(this, args);
      };
    });
    const full = page
      .getByRole('alert')
      .filter({ hasText: 'browser storage is full: training metrics was not saved' });
    await expect(full.first()).toContainText(/The run is paused at its checkpoint of step \d+/);
    await expect(progress).toHaveAttribute('aria-valuetext', /^paused · /);
    const kept = Number(/checkpoint of step (\d+)/.exec(await full.first().innerText())![1]);
    await expect(row).toContainText(`${kept} / 400`);
    await worker.evaluate(() => {
      IDBObjectStore.prototype.put = (
        globalThis as { __realPut?: typeof IDBObjectStore.prototype.put }
      ).__realPut!;
    });
    await shot(page, 'fault-storage-full');
    await intact();
    // resumed from the history: the bar starts from the kept step, as the history says
    await row.getByRole('button', { name: 'Resume faults run' }).click();
    await expect(progress).toHaveAttribute(
      'aria-valuetext',
      new RegExp(`^(starting|running) · step ${kept} / 400`),
    );
    await expect(progress).toHaveAttribute('aria-valuetext', /^running · step \d+ .*checkpoint at/, {
      timeout: 60_000,
    });
  });

  await test.step('the engine worker dies: noticed, run interrupted at its checkpoint, resumable', async () => {
    const ckpt = Number(/checkpoint at (\d+)/.exec((await progress.getAttribute('aria-valuetext'))!)![1]);
    await page
      .workers()
      .find((w) => w.url().includes('engine'))!
      .evaluate(() => self.close())
      .catch(() => undefined); // the worker may be gone before it answers
    const lost = page.getByRole('alert').filter({ hasText: 'the engine stopped' }).first();
    await expect(lost).toContainText('Run "faults run" was interrupted; its checkpoint of step');
    await expect(progress).toHaveAttribute('aria-valuetext', /^interrupted · /);
    await expect(row).toContainText('interrupted');
    await expect(row).toContainText(new RegExp(`(${ckpt}|${ckpt + 1}) / 400`));
    await shot(page, 'fault-worker-died');
    // a new engine starts; with the model loaded again the run can resume from its checkpoint
    await loadTinyRepo(page);
    await intact();
    await expect(row.getByRole('button', { name: 'Resume faults run' })).toBeEnabled();
  });
});

test('two tabs: the run belongs to the tab training it; the other shows it and marks it only once that tab is gone', async ({
  context,
}) => {
  test.setTimeout(300_000);
  const a = await context.newPage();
  await openApp(a);
  const panel = await prepare(a);
  await panel.getByLabel('Run name').fill('tab A run');
  await panel.getByRole('button', { name: 'Start training' }).click();
  const progress = panel.getByRole('progressbar', { name: 'Training progress' });
  await expect(progress).toHaveAttribute('aria-valuetext', /^running · step [1-9]/, { timeout: 120_000 });

  const b = await context.newPage();
  await openApp(b);
  const other = await openTab(b, 'Train');
  const row = other
    .getByRole('table', { name: 'Run history' })
    .getByRole('row')
    .filter({ hasText: 'tab A run' });
  await expect(row).toContainText('running');
  await expect(row).toContainText('in another tab');
  await expect(row.getByRole('button', { name: 'Delete run tab A run' })).toBeDisabled();
  await expect(row.getByRole('button', { name: 'Resume tab A run' })).toHaveCount(0);
  await b.waitForTimeout(4000);
  await expect(row).not.toContainText('interrupted');
  await expect(progress).toHaveAttribute('aria-valuetext', /^running /); // tab A trains on

  await a.close(); // no beforeunload: the tab is simply gone
  await expect(row).toContainText('interrupted', { timeout: 20_000 });
  await expect(row).not.toContainText('in another tab');
  await expect(row.getByRole('button', { name: 'Resume tab A run' })).toBeVisible();
});

test('20,000 alpaca rows import off the page: frames keep coming, the table draws only the rows in view, bad lines are named', async ({
  page,
}, info) => {
  test.setTimeout(180_000);
  const file = info.outputPath('alpaca-20k.jsonl');
  const lines = Array.from({ length: 20_000 }, (_, i) =>
    JSON.stringify({
      instruction: `Define word ${i + 1}.`,
      input: '',
      output: `Word ${i + 1} means ${i % 97}.`,
    }),
  );
  lines[12_344] = '{"instruction": "broken row"'; // line 12,345
  writeFileSync(file, lines.join('\n') + '\n');
  await openApp(page);
  const data = await openTab(page, 'Data');
  // the longest gap between two frames while the file is parsed, stored and shown
  await page.evaluate(() => {
    const w = globalThis as { __gap?: number; __stop?: boolean };
    w.__gap = 0;
    let last = performance.now();
    const tick = (t: number) => {
      w.__gap = Math.max(w.__gap!, t - last);
      last = t;
      if (!w.__stop) requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  });
  const t0 = Date.now();
  await data.getByLabel('Import dataset file').setInputFiles(file);
  const preview = data.getByRole('region', { name: 'Import preview' });
  await expect(preview.getByRole('list', { name: 'Import errors' })).toContainText('alpaca-20k.jsonl:12345');
  await preview.getByRole('button', { name: 'Import 19999 rows' }).click();
  const table = data.getByRole('table', { name: 'Rows of alpaca-20k' });
  await expect(data.getByRole('combobox', { name: 'Dataset' })).toContainText('alpaca-20k (19999)');
  await expect(table.getByLabel('Row 1 instruction')).toHaveValue('Define word 1.');
  const seconds = (Date.now() - t0) / 1000;
  const gap = await page.evaluate(() => {
    const w = globalThis as { __gap?: number; __stop?: boolean };
    w.__stop = true;
    return w.__gap!;
  });
  console.log(`20,000-row import: ${seconds.toFixed(1)} s, longest frame gap ${Math.round(gap)} ms`);
  expect(gap, 'the page froze during the import').toBeLessThan(1500);
  // virtualised: only the rows in view are drawn, and the table still says how many it has
  await expect(table).toHaveAttribute('aria-rowcount', '20000');
  const drawn = await table.locator('tbody tr').count();
  expect(drawn, 'rows in the DOM').toBeLessThan(200);
  await typeInto(table.getByLabel('Row 1 output'), 'Edited while large.');
  await expect(table.getByLabel('Row 1 output')).toHaveValue('Edited while large.');
  // scrolling to the end shows the last row (line 20,000 of the file: row 19,999 after the broken line)
  const scroller = data.getByTestId('rows-scroller');
  await scroller.evaluate((el) => (el.scrollTop = el.scrollHeight));
  await expect(table.getByLabel('Row 19999 instruction')).toHaveValue('Define word 20000.');
  const shown = () =>
    scroller.evaluate((el) => {
      const r = el.querySelector('[aria-label="Row 19999 instruction"]')?.getBoundingClientRect();
      const s = el.getBoundingClientRect();
      return !!r && r.height > 0 && r.top >= s.top - 1 && r.bottom <= s.bottom + 1;
    });
  await expect.poll(shown, { message: 'the last row is in the scrolled view' }).toBe(true);
  expect(await table.locator('tbody tr').count()).toBeLessThan(200);
  // and back to the top, where the edit was kept
  await scroller.evaluate((el) => (el.scrollTop = 0));
  await expect(table.getByLabel('Row 1 output')).toHaveValue('Edited while large.');
});

test('site data evicted: a workspace backup brings datasets back into an empty browser, merged by id', async ({
  page,
  browser,
}) => {
  await openApp(page);
  let data = await openTab(page, 'Data');
  await importData(data, 'e2e/fixtures/mixed.jsonl');
  await expect(data.getByRole('region', { name: 'Import report' })).toContainText('4 rows imported');
  const lib = await openTab(page, 'Adapters & Export');
  const download = page.waitForEvent('download');
  await lib.getByRole('button', { name: 'Export workspace backup' }).click();
  const file = await (await download).path();

  // a new profile stands for a browser that evicted the site's data
  const fresh = await browser.newContext();
  const other = await fresh.newPage();
  await openApp(other);
  const lib2 = await openTab(other, 'Adapters & Export');
  await lib2.getByLabel('Import workspace backup').setInputFiles({
    name: 'lora-studio-backup.zip',
    mimeType: 'application/zip',
    buffer: readFileSync(file),
  });
  await expect(
    other.getByText(
      'backup lora-studio-backup.zip imported: 1 datasets added; 0 runs added; 0 adapters added',
    ),
  ).toBeVisible();
  data = await openTab(other, 'Data');
  await expect(data.getByRole('combobox', { name: 'Dataset' })).toContainText('mixed (4)');
  // importing it again adds nothing twice
  await openTab(other, 'Adapters & Export');
  await lib2.getByLabel('Import workspace backup').setInputFiles({
    name: 'lora-studio-backup.zip',
    mimeType: 'application/zip',
    buffer: readFileSync(file),
  });
  await expect(
    other.getByText('imported: 0 datasets added, 1 already here; 0 runs added; 0 adapters added'),
  ).toBeVisible();
  data = await openTab(other, 'Data');
  await expect(data.getByRole('combobox', { name: 'Dataset' }).getByRole('option')).toHaveCount(1);
  await fresh.close();
});
