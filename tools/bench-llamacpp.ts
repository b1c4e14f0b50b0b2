// `npm run bench -- --llamacpp`: llama.cpp's CPU greedy decode (node-llama-cpp's prebuilt binaries) on the bench's
// random model, exported to an f32 GGUF, with the same prompt, new tokens and threads as our decode; timed the
// same way (tokens after the first one, which comes from the prompt's evaluation), after one warm-up run.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Token } from 'node-llama-cpp';
import { ggufModel } from '../src/engine/export/gguf-model';
import { llamaCppLoad } from '../src/engine/export/llamacpp_node';
import { fileBytes } from '../src/engine/export/output';
import type { BaseModel } from '../src/engine/model/device';

export interface LlamaCppDecode {
  tokens_per_s: number;
  ms_per_token: number;
  prefill_ms: number;
  /** greedy ids, to compare with ours */ ids: number[];
}

export async function benchLlamaCpp(
  model: BaseModel,
  prompt: number[],
  newTokens: number,
  threads: number,
): Promise<LlamaCppDecode> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-llamacpp-'));
  const file = join(dir, 'model.gguf');
  try {
    const loaded = { ...model, files: {} };
    writeFileSync(file, fileBytes({ path: file, chunks: () => ggufModel(loaded).chunks() }));
    const m = await llamaCppLoad(file);
    try {
      const ctx = await m.createContext({
        threads,
        contextSize: Math.max(32, prompt.length + newTokens + 1),
      });
      try {
        const seq = ctx.getSequence();
        const once = async () => {
          await seq.clearHistory();
          const ids: number[] = [];
          const t0 = performance.now();
          let tFirst = 0;
          for await (const t of seq.evaluate(prompt as Token[], { temperature: 0 })) {
            if (!tFirst) tFirst = performance.now();
            ids.push(t);
            if (ids.length >= newTokens) break;
          }
          const ms = performance.now() - tFirst;
          return { ids, prefill_ms: tFirst - t0, ms_per_token: ms / (ids.length - 1) };
        };
        await once(); // warm-up
        const r = await once();
        return { ...r, tokens_per_s: 1000 / r.ms_per_token };
      } finally {
        await ctx.dispose();
      }
    } finally {
      await m.dispose();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
