// llama.cpp (through node-llama-cpp, prebuilt CPU binaries) as an independent runner of exported GGUF files:
// tokenization, teacher-forced logits and greedy decoding, with an optional GGUF LoRA adapter. Node-only.
// Settings follow DESIGN §4: no GPU, no build, 2 threads, no mmap (the defaults are 40× slower on small VMs).

import type { Llama, LlamaContextSequence, LlamaModel, Token } from 'node-llama-cpp';

let llamaPromise: Promise<Llama> | undefined;

/**
 * One llama.cpp instance per process (loading the bindings takes about a second). node-llama-cpp is loaded
 * here, on first use, so bundles that never call it (the GPU bench) need not carry it.
 */
export function llamaCpp(): Promise<Llama> {
  llamaPromise ??= import('node-llama-cpp').then(({ getLlama, LlamaLogLevel }) =>
    getLlama({ gpu: false, build: 'never', logLevel: LlamaLogLevel.error, progressLogs: false }),
  );
  return llamaPromise;
}

async function withModel<T>(ggufPath: string, fn: (model: LlamaModel) => Promise<T>): Promise<T> {
  const llama = await llamaCpp();
  const model = await llama.loadModel({ modelPath: ggufPath, useMmap: false });
  try {
    return await fn(model);
  } finally {
    await model.dispose();
  }
}

async function withSequence<T>(
  ggufPath: string,
  contextSize: number,
  adapterPath: string | undefined,
  fn: (seq: LlamaContextSequence) => Promise<T>,
): Promise<T> {
  return withModel(ggufPath, async (model) => {
    const ctx = await model.createContext({
      threads: 2,
      contextSize: Math.max(32, contextSize),
      ...(adapterPath ? { lora: { adapters: [{ filePath: adapterPath }] } } : {}),
    });
    try {
      return await fn(ctx.getSequence());
    } finally {
      await ctx.dispose();
    }
  });
}

/** llama.cpp's tokenization of `text`; `addSpecial` prepends BOS / appends EOS as the GGUF's add_*_token say. */
export async function llamaCppTokenize(
  ggufPath: string,
  text: string,
  addSpecial: boolean,
  parseSpecial = false,
): Promise<number[]> {
  return withModel(ggufPath, async (model) => llamaCppTokenizeWith(model, text, addSpecial, parseSpecial));
}

/**
 * As llamaCppTokenize, with a model already loaded (many strings, one load). `parseSpecial` matches control
 * tokens written in the text (as HF tokenizers and llama.cpp's chat path do); off, they are plain text.
 */
export function llamaCppTokenizeWith(
  model: LlamaModel,
  text: string,
  addSpecial: boolean,
  parseSpecial = false,
): number[] {
  // node-llama-cpp's tokenize never adds BOS/EOS; the GGUF's flags decide, as llama_tokenize(add_special) does.
  const ids: number[] = model.tokenize(text, parseSpecial);
  if (!addSpecial) return ids;
  const { bos, eos, shouldPrependBosToken, shouldAppendEosToken } = model.tokens;
  return [
    ...(shouldPrependBosToken && bos !== null ? [bos] : []),
    ...ids,
    ...(shouldAppendEosToken && eos !== null ? [eos] : []),
  ];
}

/** Loads a GGUF model for several calls of llamaCppTokenizeWith; dispose it when done. */
export async function llamaCppLoad(ggufPath: string): Promise<LlamaModel> {
  return (await llamaCpp()).loadModel({ modelPath: ggufPath, useMmap: false });
}

/**
 * Greedy continuation: exactly `n` new token ids after `promptIds` (end-of-generation tokens do not stop it;
 * cut at your stop ids). With `adapterPath`, the GGUF LoRA adapter is applied at scale 1.
 */
export async function llamaCppGreedy(
  ggufPath: string,
  promptIds: number[],
  n: number,
  adapterPath?: string,
): Promise<number[]> {
  return withSequence(ggufPath, promptIds.length + n + 1, adapterPath, async (seq) => {
    const out: number[] = [];
    if (n <= 0) return out;
    for await (const t of seq.evaluate(promptIds as Token[], { temperature: 0 })) {
      out.push(t);
      if (out.length >= n) break;
    }
    return out;
  });
}

/**
 * Teacher-forced logits for each row: result[r][t] is llama.cpp's raw logits for the token after
 * rows[r][0..t] (one entry per vocabulary id). One model load for all rows; each row starts a fresh sequence.
 */
export async function llamaCppLogits(
  ggufPath: string,
  rows: number[][],
  adapterPath?: string,
): Promise<Float32Array[][]> {
  const longest = Math.max(1, ...rows.map((r) => r.length));
  return withSequence(ggufPath, longest + 1, adapterPath, async (seq) => {
    const out: Float32Array[][] = [];
    for (const ids of rows) {
      await seq.clearHistory();
      const res = await seq.controlledEvaluate(
        ids.map(
          (id) =>
            [id as Token, { generateNext: { logits: true } }] as [Token, { generateNext: { logits: true } }],
        ),
      );
      out.push(
        res.map((r, t) => {
          const logits = r?.next.logits;
          if (!logits) throw new Error(`llama.cpp returned no logits at position ${t}`);
          let size = 0;
          for (const k of logits.keys()) size = Math.max(size, k + 1);
          const row = new Float32Array(size);
          for (const [k, v] of logits) row[k] = v;
          return row;
        }),
      );
    }
    return out;
  });
}
