// Chat templates (DESIGN §3 "Which tokens are trained"): Jinja from tokenizer_config.json or
// chat_template.jinja, rendered in @huggingface/jinja's sandbox (no host access) with the same kwargs at
// training and chat time, as transformers' apply_chat_template does.

import { Template } from '@huggingface/jinja';
import { UserError } from '../errors';
import type { Message } from '../../data/rows';

export interface RenderOptions {
  addGenerationPrompt: boolean;
  bosToken?: string;
  eosToken?: string;
  /** Extra template variables, e.g. { enable_thinking: false } for Qwen3. */
  extra?: Record<string, unknown>;
}

// Parsing is the slow part and a dataset renders the same template thousands of times.
const parsed = new Map<string, Template>();

function compile(template: string): Template {
  let t = parsed.get(template);
  if (!t) {
    t = new Template(template);
    if (parsed.size >= 8) parsed.delete(parsed.keys().next().value as string);
    parsed.set(template, t);
  }
  return t;
}

export function renderChat(template: string, messages: readonly Message[], opts: RenderOptions): string {
  const vars: Record<string, unknown> = { ...opts.extra };
  if (opts.bosToken !== undefined) vars.bos_token = opts.bosToken;
  if (opts.eosToken !== undefined) vars.eos_token = opts.eosToken;
  vars.messages = messages.map((m) => ({ role: m.role, content: m.content }));
  vars.add_generation_prompt = opts.addGenerationPrompt;
  try {
    return compile(template).render(vars);
  } catch (e) {
    throw new UserError(`chat template failed to render: ${(e as Error).message}`);
  }
}

/**
 * The model's chat template: chat_template.jinja when present (newer transformers save it there), else
 * tokenizer_config.json's `chat_template`, a string or a list of {name, template} of which "default" is used.
 */
export function pickChatTemplate(tokenizerConfig: unknown, chatTemplateJinja?: string): string | undefined {
  if (chatTemplateJinja !== undefined && chatTemplateJinja.trim() !== '') return chatTemplateJinja;
  if (typeof tokenizerConfig !== 'object' || tokenizerConfig === null) return undefined;
  const t = (tokenizerConfig as { chat_template?: unknown }).chat_template;
  if (typeof t === 'string') return t;
  if (Array.isArray(t)) {
    const named = t.filter(
      (x): x is { name: string; template: string } =>
        typeof x === 'object' && x !== null && typeof x.name === 'string' && typeof x.template === 'string',
    );
    return named.find((x) => x.name === 'default')?.template;
  }
  return undefined;
}

/** Template kwargs used for both training and chat unless the user overrides them. */
export function defaultTemplateKwargs(modelType: string): Record<string, unknown> {
  if (modelType === 'qwen3' || modelType === 'qwen3_moe') return { enable_thinking: false };
  return {};
}
