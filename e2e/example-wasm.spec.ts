// The offline quick start on the WebAssembly fallback (Chromium without WebGPU, as on many machines): a LoRA of
// ordinary settings on the example dataset teaches the embedded WordNet model a dictionary-entry format that
// holds on held-out words' prompts (≥ 70 %), which the base model does not follow (≤ 10 %).
// `UPDATE_DOCS=1 npx playwright test e2e/example-wasm.spec.ts` refreshes docs/example-chat.png.
import { test } from '@playwright/test';
import { teachAndCompare } from './cards';
import { CHROMIUM, CHROMIUM_ARGS } from './env';

test.use({ launchOptions: { executablePath: CHROMIUM, args: CHROMIUM_ARGS } });

test('example dataset: a LoRA teaches the embedded model a format that holds on held-out words', async ({
  page,
}) => {
  test.setTimeout(900_000);
  await teachAndCompare(page, 'wasm');
});
