// Our engine against llama.cpp on exported files: for tiny llama / qwen2 / qwen3 models with an adapter
// trained by our trainer, (a) the merged GGUF and (b) the base GGUF + GGUF adapter give the same greedy
// tokens in llama.cpp as our engine gives; the recorded llama.cpp continuations of the golden models match
// our engine; and merged safetensors loaded back give the same logits as base + adapter.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Generator, type AdapterForInference } from '../generate/generator';
import { readAdapter } from '../io/peft';
import { memorySource } from '../io/source';
import { dirSource } from '../io/source_node';
import { DeviceModel } from '../model/device';
import { stopIds } from '../generate/stops';
import { loadModel, type LoadedModel } from '../model/weights';
import { createNodeRuntime } from '../runtime/node_node';
import type { Runtime } from '../runtime/types';
import { maxRelErr } from '../testing/compare';
import { CHAT_EXAMPLES } from '../testing/corpus';
import { makeTinyModel, type TinyArch } from '../testing/tiny-model';
import { encodeChatPrompt, encodeDataset } from '../text/encode';
import { pickChatTemplate } from '../text/template';
import { loadTokenizer } from '../text/tokenizer';
import { resolveTargets, resolveTrainConfig } from '../train/config';
import { Trainer } from '../train/trainer';
import { ggufAdapter } from './gguf-adapter';
import { ggufModel } from './gguf-model';
import { llamaCppGreedy } from './llamacpp_node';
import { mergedModel } from './merge';
import { fileBytes } from './output';
import { hfModelFiles } from './safetensors-model';

const golden = join(__dirname, '../../../tests/fixtures/golden');
let rt: Runtime;
let tmp: string;
beforeAll(async () => {
  rt = await createNodeRuntime({ backend: 'cpu', threads: 2 });
  tmp = mkdtempSync(join(tmpdir(), 'lora-llamacpp-'));
});
afterAll(async () => rt?.release());

async function engineGreedy(
  model: LoadedModel,
  adapter: AdapterForInference | null,
  prompts: number[][],
  n: number,
  stop: number[] = [],
) {
  const dev = await DeviceModel.upload(rt, model);
  const gen = new Generator(dev);
  await gen.setAdapter(adapter);
  const out: number[][] = [];
  for (const p of prompts) out.push((await gen.generate([p], { maxNewTokens: n, stopIds: stop })).ids[0]);
  await gen.dispose();
  await dev.dispose();
  return out;
}

describe('recorded llama.cpp continuations of the golden models', () => {
  const lines = readFileSync(join(__dirname, 'fixtures/llamacpp-greedy.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  it.each(lines.map((l) => [`${l.case} ${l.adapter ?? 'base'}`, l]))('%s', async (_, l) => {
    const model = await loadModel(dirSource(join(golden, l.case, 'model')));
    const adapter = l.adapter
      ? await readAdapter(dirSource(join(golden, l.case, l.adapter)), model.config)
      : null;
    const [ids] = await engineGreedy(
      model,
      adapter && { ...adapter.meta, weights: adapter.weights },
      [l.prompt],
      l.tokens.length,
    );
    expect(ids).toEqual(l.tokens);
  });
});

describe.each<TinyArch>(['llama', 'qwen2', 'qwen3'])('tiny %s with a trained adapter', (arch) => {
  let model: LoadedModel;
  let adapter: AdapterForInference;
  let prompts: number[][];
  let stop: number[];
  /** llama.cpp's continuation up to its first end-of-generation token (our generator stops there too) */
  const cut = (ids: number[]) => {
    const k = ids.findIndex((id) => stop.includes(id));
    return k < 0 ? ids : ids.slice(0, k);
  };
  beforeAll(async () => {
    const files = makeTinyModel({
      arch,
      seed: 11,
      tied: arch !== 'qwen2',
      ropeScaling: arch === 'llama' ? 'llama3' : null,
    });
    model = await loadModel(memorySource(files));
    const tok = loadTokenizer(model.files.tokenizerJson!, model.files.tokenizerConfig);
    const template = pickChatTemplate(model.files.tokenizerConfig, model.files.chatTemplate)!;
    const pairs = CHAT_EXAMPLES.slice(0, 6);
    const rows = pairs.map((p, i) => ({
      kind: 'chat' as const,
      flat: false,
      format: 'messages' as const,
      line: i + 1,
      where: `chat:${i + 1}`,
      messages: [
        { role: 'user' as const, content: p.user },
        { role: 'assistant' as const, content: p.assistant },
      ],
    }));
    const { examples } = encodeDataset(rows, { tokenizer: tok, template, maxLen: 256, trainOnPrompt: false });
    const config = resolveTrainConfig({
      rank: 8,
      alpha: 16,
      rslora: arch === 'qwen2',
      targets: 'all-linear',
      lr: 3e-3,
      steps: 8,
      batchSize: 3,
      dropout: 0,
    });
    const t = await Trainer.create({ runtime: rt, model, config, train: examples });
    while (t.step < t.totalSteps) await t.trainStep();
    adapter = {
      rank: 8,
      alpha: 16,
      rslora: config.rslora,
      targets: resolveTargets(config.targets),
      weights: await t.adapter(),
    };
    await t.dispose();
    stop = stopIds(model, tok, template);
    prompts = pairs
      .slice(0, 3)
      .map((p) => encodeChatPrompt([{ role: 'user', content: p.user }], { tokenizer: tok, template }));
  });

  it('merged GGUF and base GGUF + adapter GGUF give our greedy tokens in llama.cpp', async () => {
    const n = 8;
    const ours = await engineGreedy(model, adapter, prompts, n, stop);
    const base = await engineGreedy(model, null, prompts, n, stop);
    expect(ours).not.toEqual(base); // the adapter matters
    expect(Math.max(...ours.map((o) => o.length))).toBeGreaterThanOrEqual(4); // enough tokens to compare
    const meta = {
      rank: adapter.rank,
      alpha: adapter.alpha,
      rslora: adapter.rslora,
      targets: adapter.targets,
      dropout: 0,
      baseModel: arch,
    };
    const merged = join(tmp, `${arch}-merged.gguf`);
    const baseFile = join(tmp, `${arch}-base.gguf`);
    const adapterFile = join(tmp, `${arch}-adapter.gguf`);
    writeFileSync(
      merged,
      fileBytes({
        path: merged,
        chunks: () => ggufModel(mergedModel(model, { meta, weights: adapter.weights })).chunks(),
      }),
    );
    writeFileSync(baseFile, fileBytes({ path: baseFile, chunks: () => ggufModel(model).chunks() }));
    writeFileSync(
      adapterFile,
      fileBytes({
        path: adapterFile,
        chunks: () => ggufAdapter(model.config, { meta, weights: adapter.weights }).chunks(),
      }),
    );
    for (let i = 0; i < prompts.length; i++) {
      expect(cut(await llamaCppGreedy(merged, prompts[i], n)), `merged, prompt ${i}`).toEqual(ours[i]);
      expect(
        cut(await llamaCppGreedy(baseFile, prompts[i], n, adapterFile)),
        `base + adapter, prompt ${i}`,
      ).toEqual(ours[i]);
      expect(cut(await llamaCppGreedy(baseFile, prompts[i], n)), `base, prompt ${i}`).toEqual(base[i]);
    }
  });

  it('merged safetensors loaded back give the logits of base + adapter', async () => {
    const meta = {
      rank: adapter.rank,
      alpha: adapter.alpha,
      rslora: adapter.rslora,
      targets: adapter.targets,
      dropout: 0,
      baseModel: arch,
    };
    const files = Object.fromEntries(
      hfModelFiles(model, { weights: mergedModel(model, { meta, weights: adapter.weights }).weights }).map(
        (f) => [f.path, fileBytes(f)],
      ),
    );
    const reloaded = await loadModel(memorySource(files));
    const logits = async (m: LoadedModel, a: AdapterForInference | null) => {
      const dev = await DeviceModel.upload(rt, m);
      const gen = new Generator(dev);
      await gen.setAdapter(a);
      let out = new Float32Array();
      await gen.generate([prompts[0]], {
        maxNewTokens: 1,
        stopIds: [],
        onLogits: (_, l) => (out = l.slice()),
      });
      await gen.dispose();
      await dev.dispose();
      return out;
    };
    expect(maxRelErr(await logits(reloaded, null), await logits(model, adapter))).toBeLessThan(1e-4);
  });
});
