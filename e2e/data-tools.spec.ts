// The Data tab's instruction-data tools on the embedded model (SwiftShader WebGPU): duplicate groups the
// user confirms, size and diversity, IFD scores with "keep the top k %", rows from a template (a missing
// column is one message, nothing added), and Self-Instruct with progress, cancel and a keep/drop review.
import { writeFileSync } from 'node:fs';
import { expect, test, type Locator } from '@playwright/test';
import { deviceBadge, docShot, importData, openApp, openTab, shot } from './helpers';

const row = (instruction: string, output: string) => JSON.stringify({ instruction, output });

async function section(panel: Locator, name: string) {
  const s = panel
    .locator('details.tool-section')
    .filter({ has: panel.page().getByText(name, { exact: true }) });
  await s.locator('summary').click();
  return s;
}

test('data tools: dedupe groups, stats, IFD top k %, templates, Self-Instruct with cancel and review', async ({
  page,
}, info) => {
  test.setTimeout(1_200_000);
  await openApp(page);
  await deviceBadge(page);
  let panel = await openTab(page, 'Model');
  await panel.getByRole('button', { name: 'Load the embedded tiny model' }).click();
  await expect(panel.getByTestId('model-label')).toContainText('Embedded');

  const file = info.outputPath('tools.jsonl');
  writeFileSync(
    file,
    [
      row('List three kinds of birds.', 'Robin, wren and owl.'),
      row('list three kinds of birds!', 'Crow, jay and tit.'), // near duplicate of row 1
      row('Write a haiku about rain.', 'Drops on the window.'),
      row('Write a haiku about rain.', 'Drops on the window.'), // exact copy of row 3
      row('Explain why the sky is blue.', 'Air scatters blue light the most.'),
      row('Name the largest ocean.', 'The Pacific Ocean.'),
    ].join('\n') + '\n',
  );
  panel = await openTab(page, 'Data');
  await importData(panel, file);
  await expect(panel.getByRole('region', { name: 'Import report' })).toContainText('6 rows imported');
  const datasetSize = () => panel.getByRole('combobox', { name: 'Dataset' });

  // near duplicates as groups; the user keeps row 2 after all, row 4 goes
  const dedupe = await section(panel, 'Near duplicates');
  await dedupe.getByRole('button', { name: 'Find duplicates' }).click();
  const groups = dedupe.getByRole('region', { name: 'Duplicate groups' });
  await expect(groups).toContainText('2 rows in 2 groups duplicate an earlier row');
  await expect(groups).toContainText('Row 2 (ROUGE-L 1.00)');
  await expect(groups).toContainText('Row 4 (exact copy)');
  await groups.getByLabel('Remove row 2').uncheck();
  await shot(page, 'data-tools-dedupe');
  await groups.getByRole('button', { name: 'Remove 1 selected row' }).click();
  await expect(datasetSize()).toContainText('tools (5)');

  // size and diversity
  const stats = await section(panel, 'Size and diversity');
  await stats.getByRole('button', { name: 'Compute statistics' }).click();
  const region = stats.getByRole('region', { name: 'Size and diversity' });
  await expect(region).toContainText('Rows5');
  await expect(region).toContainText('Near duplicates1');
  await expect(region).toContainText('Distinct leading verbs4');
  await expect(region.getByLabel('Leading verbs')).toContainText('list (2)');

  // IFD scores, then keep the top 60 % (3 of 5)
  const ifd = await section(panel, 'IFD selection');
  await ifd.getByRole('button', { name: 'Score IFD' }).click();
  const scores = ifd.getByRole('region', { name: 'IFD scores' });
  await expect(scores).toBeVisible({ timeout: 240_000 });
  await expect(scores.getByRole('table', { name: 'Rows by IFD' }).getByRole('row')).toHaveCount(6);
  await scores.getByLabel('Keep the top k %').fill('60');
  await scores.getByLabel('Keep the top k %').press('Tab');
  await shot(page, 'data-tools-ifd');
  await scores.getByRole('button', { name: 'Keep 3 of 5 rows' }).click();
  await expect(datasetSize()).toContainText('tools (3)');

  // rows from a template: a missing column is one message and adds nothing; then three rows
  const csv = info.outputPath('words.csv');
  writeFileSync(csv, 'word,meaning\ncat,a small feline\nrun,move fast\noak,a large tree\n');
  const tpl = await section(panel, 'Rows from a template');
  await tpl.getByLabel('Labelled data file').setInputFiles(csv);
  await expect(tpl.getByLabel('Columns')).toContainText('{word} {meaning}');
  await tpl.getByLabel('Instruction templates').fill('Define "{wrd}".');
  await tpl.getByLabel('Output template').fill('{meaning}');
  await tpl.getByRole('button', { name: 'Preview rows' }).click();
  await expect(tpl.getByRole('alert')).toHaveText(
    'instruction template names the column {wrd}, which the data does not have (columns: word, meaning)',
  );
  await tpl.getByLabel('Instruction templates').fill('Define "{word}".\nWhat does {word} mean?');
  await tpl.getByRole('button', { name: 'Preview rows' }).click();
  await expect(tpl.getByRole('region', { name: 'Template preview rows' })).toContainText('→ a small feline');
  await tpl.getByRole('button', { name: 'Add 3 rows to this dataset' }).click();
  await expect(datasetSize()).toContainText('tools (6)');

  // Self-Instruct: cancel a long generation (what was kept stays, nothing half-written), then review
  const si = await section(panel, 'Self-Instruct');
  await si.getByLabel('Rows to generate').fill('200');
  await si.getByLabel('Rows to generate').press('Tab');
  await si.getByRole('button', { name: 'Generate rows' }).click();
  const bar = si.getByRole('progressbar', { name: 'Self-Instruct progress' });
  await expect(bar).toHaveAttribute('aria-valuetext', /after [1-9]\d* attempts/, { timeout: 240_000 });
  await si.getByRole('button', { name: 'Cancel generation' }).click();
  const review = si.getByRole('region', { name: 'Generated rows' });
  await expect(review).toContainText(/^Cancelled: kept \d+ after \d+ attempts/, { timeout: 120_000 });
  const kept = Number(/kept (\d+)/.exec((await review.innerText()) ?? '')![1]);
  await expect(review.getByRole('checkbox')).toHaveCount(kept);
  await expect(datasetSize()).toContainText('tools (6)');
  // one row (each attempt is two generations: on SwiftShader that takes a while), then the review
  await si.getByLabel('Rows to generate').fill('1');
  await si.getByLabel('Rows to generate').press('Tab');
  await si.getByRole('button', { name: 'Generate rows' }).click();
  await expect(review).toContainText(/kept \d+ after \d+ attempts/, { timeout: 480_000 });
  await shot(page, 'data-tools-self-instruct');
  await docShot(page, 'data-tools');
  const boxes = review.getByRole('checkbox');
  const n = await boxes.count();
  if (n > 0) {
    await boxes.first().uncheck();
    await expect(review.getByRole('button', { name: /^Add 0 kept rows/ })).toBeDisabled();
    await boxes.first().check();
    await review
      .getByRole('button', { name: `Add ${n} kept row${n === 1 ? '' : 's'} to this dataset` })
      .click();
    await expect(datasetSize()).toContainText(`tools (${6 + n})`);
  }
});
