// `generate`: a completion (--prompt, tokenized as the model's tokenizer does by default) or a chat answer
// (--chat, the template with add_generation_prompt), streamed to stdout; --json prints one line with the
// prompt ids, the new ids and the text instead.
import { UserError } from '../engine/errors';
import { Generator } from '../engine/generate/generator';
import { checkSampling, defaultSampling, type SamplingOptions } from '../engine/generate/sampling';
import { stopIds, TextStopper } from '../engine/generate/stops';
import { readAdapter } from '../engine/io/peft';
import { dirSource } from '../engine/io/source_node';
import { DeviceModel } from '../engine/model/device';
import { encodeChatPrompt } from '../engine/text/encode';
import { defaultTemplateKwargs, pickChatTemplate } from '../engine/text/template';
import { createDecodeStream } from '../engine/text/tokenizer';
import { modelTokenizer, openModelReader, openRuntime, type BackendChoice } from './context';
import { flagOf } from './errors';

export interface GenerateArgs {
  model: string;
  adapter?: string;
  prompt?: string;
  chat?: string;
  system?: string;
  maxNewTokens: number;
  sampling: SamplingOptions;
  seed: number;
  json: boolean;
  /** Stop strings: generation ends when the text contains one (it is not printed). */
  stop: string[];
  backend: BackendChoice;
  threads?: number;
  quiet: boolean;
}

export async function generate(a: GenerateArgs): Promise<void> {
  if ((a.prompt === undefined) === (a.chat === undefined))
    throw new UserError('give exactly one of --prompt TEXT or --chat TEXT');
  if (!(a.maxNewTokens > 0)) throw new UserError('--max-new-tokens must be > 0');
  checkSampling({ ...defaultSampling, ...a.sampling }, flagOf);
  const model = await openModelReader(a.model, a.quiet); // weights read as they go to the device
  const tok = modelTokenizer(model);
  if (!tok) throw new UserError('the model has no tokenizer.json: generate needs one');
  const template = pickChatTemplate(model.files.tokenizerConfig, model.files.chatTemplate);
  const adapter = a.adapter ? await readAdapter(dirSource(a.adapter), model.config) : undefined;
  let promptIds: number[];
  if (a.chat !== undefined) {
    if (!template) throw new UserError('the model has no chat template; use --prompt');
    const messages = [
      ...(a.system ? [{ role: 'system' as const, content: a.system }] : []),
      { role: 'user' as const, content: a.chat },
    ];
    promptIds = encodeChatPrompt(messages, {
      tokenizer: tok,
      template,
      templateKwargs: defaultTemplateKwargs(model.config.model_type),
    });
  } else {
    promptIds = tok.encode(a.prompt!);
  }
  if (promptIds.length === 0) throw new UserError('the prompt is empty');
  const runtime = await openRuntime(a.backend, a.threads);
  const device = await DeviceModel.upload(runtime, model);
  const gen = new Generator(device);
  if (adapter) await gen.setAdapter({ ...adapter.meta, weights: adapter.weights });
  const stream = createDecodeStream(tok, { contextIds: promptIds });
  const stopper = new TextStopper(a.stop);
  let text = '';
  const res = await gen.generate([promptIds], {
    maxNewTokens: a.maxNewTokens,
    sampling: a.sampling,
    seed: a.seed,
    stopIds: stopIds(model, tok, template),
    onToken: (_, id) => {
      const shown = stopper.push(stream.push(id));
      text += shown;
      if (!a.json) process.stdout.write(shown);
      return !stopper.stopped;
    },
  });
  const ids = res.ids[0];
  const tail = stopper.push(stream.flush()) + stopper.flush();
  text += tail;
  if (a.json) process.stdout.write(JSON.stringify({ prompt_ids: promptIds, ids, text }) + '\n');
  else process.stdout.write(tail + '\n');
  await gen.dispose();
  await device.dispose();
  await runtime.release();
}
