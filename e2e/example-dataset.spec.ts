// Instruction tuning, offline, on the embedded WordNet model (SwiftShader WebGPU): the model and the example
// dataset load; with E2E_SLOW=1 also the whole quick start (42 training steps take ~15 minutes on software
// WebGPU here; example-wasm.spec.ts runs it on the WebAssembly fallback in every test run).
// `UPDATE_DOCS=1 npx playwright test e2e/example-dataset.spec.ts` refreshes docs/example-dataset.png.
import { test } from '@playwright/test';
import { loadModelAndExamples, teachAndCompare } from './cards';
import { docShot } from './helpers';

test('the WordNet model and the example dataset load offline', async ({ page }) => {
  await loadModelAndExamples(page);
  await docShot(page, 'example-dataset');
});

test('example dataset on software WebGPU: the taught format holds on held-out words', async ({ page }) => {
  test.skip(process.env.E2E_SLOW !== '1', 'tens of minutes on software WebGPU: set E2E_SLOW=1');
  test.setTimeout(6 * 3600_000);
  await teachAndCompare(page, 'webgpu');
});
