// Chat in the worker: the conversation rendered with the model's chat template exactly as training renders
// prompts (encodeChatPrompt), generated with the engine's Generator on the shared device model, streamed
// as text deltas (createDecodeStream never splits a UTF-8 character). Calls run one at a time: the
// generator holds one adapter at a time.
import type { Message } from '../src/data/rows';
import { UserError } from '../src/engine/errors';
import { Generator, type FinishReason } from '../src/engine/generate/generator';
import { stopIds } from '../src/engine/generate/stops';
import type { DeviceModel } from '../src/engine/model/device';
import { isDeviceLost } from '../src/engine/runtime/lost';
import { encodeChatPrompt } from '../src/engine/text/encode';
import { createDecodeStream } from '../src/engine/text/tokenizer';
import { getDeviceModel, getModel } from './context';
import type { Job } from './jobs';
import { libraryAdapter } from './library';

export interface SamplingParams {
  maxNewTokens: number;
  temperature: number;
  topP: number;
  topK: number;
  seed: number;
}

export interface GenerateRequest {
  messages: Message[];
  /** null: the base model alone. */
  adapterId: string | null;
  sampling: SamplingParams;
}

export interface GenerateResult {
  text: string;
  tokens: number;
  ms: number;
  finish: FinishReason;
}

let generator: { device: DeviceModel; gen: Generator } | undefined;
let queue: Promise<unknown> = Promise.resolve();

/** The generator of the current device model; the previous model's (its sessions, its adapter) is freed. */
async function generatorFor(device: DeviceModel): Promise<Generator> {
  if (generator?.device !== device) {
    const old = generator;
    generator = { device, gen: new Generator(device) };
    await old?.gen.dispose().catch(() => undefined);
  }
  return generator.gen;
}

/** Frees the generator (before a model load: its sessions and adapter belong to the model going away). */
export async function dropGenerator(): Promise<void> {
  const old = generator;
  generator = undefined;
  await old?.gen.dispose().catch(() => undefined);
}

export function generate(
  req: GenerateRequest,
  onText: (delta: string) => void,
  job: Job,
): Promise<GenerateResult> {
  const run = queue
    .then(() => generateNow(req, onText, job))
    .catch((e: unknown) => {
      // the next call opens a new device and uploads the weights again (context.ts)
      if (isDeviceLost(e))
        throw new UserError(
          'The GPU was reset (device lost) during this reply. Send again: the model is uploaded to a new device.',
        );
      throw e;
    });
  queue = run.catch(() => undefined);
  return run;
}

async function generateNow(
  req: GenerateRequest,
  onText: (delta: string) => void,
  job: Job,
): Promise<GenerateResult> {
  job.check();
  const m = getModel();
  if (!m.tokenizer) throw new UserError('this model has no tokenizer.json, so it cannot chat');
  const s = req.sampling;
  if (!(Number.isInteger(s.maxNewTokens) && s.maxNewTokens > 0))
    throw new UserError('max new tokens must be a positive integer');
  const prompt = encodeChatPrompt(req.messages, {
    tokenizer: m.tokenizer,
    template: m.template,
    templateKwargs: m.templateKwargs,
  });
  const gen = await generatorFor(await getDeviceModel());
  if (req.adapterId) {
    const a = await libraryAdapter(req.adapterId);
    await gen.setAdapter({
      rank: a.meta.rank,
      alpha: a.meta.alpha,
      rslora: a.meta.rslora,
      targets: a.meta.targets,
      weights: a.weights,
    });
  } else await gen.setAdapter(null);
  job.check();
  const stream = createDecodeStream(m.tokenizer, { contextIds: prompt });
  let text = '';
  let tokens = 0;
  const t0 = performance.now();
  const res = await gen.generate([prompt], {
    maxNewTokens: s.maxNewTokens,
    sampling: { temperature: s.temperature, topK: s.topK, topP: s.topP },
    seed: s.seed,
    stopIds: stopIds(m.model, m.tokenizer, m.template),
    signal: job.signal,
    onToken: (_row, id) => {
      tokens++;
      const delta = stream.push(id);
      if (delta) {
        text += delta;
        onText(delta);
      }
    },
  });
  const rest = stream.flush();
  if (rest) {
    text += rest;
    onText(rest);
  }
  return { text, tokens, ms: performance.now() - t0, finish: res.finish[0] };
}
