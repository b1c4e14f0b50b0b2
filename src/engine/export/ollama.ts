// An Ollama Modelfile for an exported GGUF (https://github.com/ollama/ollama/blob/main/docs/modelfile.md):
// FROM, ADAPTER when the adapter is a separate file, TEMPLATE as a Go template and PARAMETER stop.
// The Go template is derived by rendering the model's Jinja chat template with marker messages and cutting
// out the per-role blocks (ChatML as Qwen and the tiny models write it, Llama 3's header style, …); the
// blocks are then checked by re-rendering a longer conversation both ways, so a template we cannot express
// is left out rather than written wrong.

import type { Message } from '../../data/rows';
import type { LoadedModel } from '../model/weights';
import { loadTokenizer } from '../text/tokenizer';
import { defaultTemplateKwargs, renderChat } from '../text/template';

export interface ChatTemplateInput {
  /** The model's Jinja chat template. */
  chatTemplate: string;
  /** Extra template variables used at training and chat time (Qwen3: enable_thinking false). */
  templateKwargs?: Record<string, unknown>;
  bosToken?: string;
  eosToken?: string;
  /** The tokenizer adds BOS itself (GGUF add_bos_token): a leading BOS in the template is dropped. */
  addBos?: boolean;
}

/** The pieces a chat template puts around each message. */
export interface ChatBlocks {
  /** Text before the first message when there is no system message (a default system prompt, or ''). */
  defaultSystem: string;
  system: [string, string];
  user: [string, string];
  assistant: [string, string];
  /** Appended after the last user message to start the reply (add_generation_prompt). */
  generation: string;
}

const SYS = '@@SYSTEM_TEXT@@';
const U1 = '@@USER_ONE@@';
const A1 = '@@ASSISTANT_ONE@@';
const U2 = '@@USER_TWO@@';

function around(text: string, marker: string): [string, string] | undefined {
  const i = text.indexOf(marker);
  if (i < 0 || text.indexOf(marker, i + 1) >= 0) return undefined;
  return [text.slice(0, i), text.slice(i + marker.length)];
}

/** Renders messages with the pieces, as the Go template will. */
export function renderWithBlocks(b: ChatBlocks, messages: Message[], generation: boolean): string {
  const sys = messages.filter((m) => m.role === 'system').map((m) => m.content);
  let out = sys.length ? b.system[0] + sys.join('\n\n') + b.system[1] : b.defaultSystem;
  for (const m of messages) {
    if (m.role === 'user') out += b.user[0] + m.content + b.user[1];
    if (m.role === 'assistant') out += b.assistant[0] + m.content + b.assistant[1];
  }
  const last = messages[messages.length - 1];
  if (generation && last && last.role !== 'assistant') out += b.generation;
  return out;
}

/** Cuts the per-role blocks out of the Jinja template's renderings; undefined when it does not decompose. */
export function chatBlocks(input: ChatTemplateInput): ChatBlocks | undefined {
  const render = (messages: Message[], gen = false) => {
    let text = renderChat(input.chatTemplate, messages, {
      addGenerationPrompt: gen,
      bosToken: input.bosToken,
      eosToken: input.eosToken,
      extra: input.templateKwargs,
    });
    if (input.addBos && input.bosToken && text.startsWith(input.bosToken))
      text = text.slice(input.bosToken.length);
    return text;
  };
  const user = (content: string): Message => ({ role: 'user', content });
  const asst: Message = { role: 'assistant', content: A1 };
  const sys: Message = { role: 'system', content: SYS };
  try {
    // [U1, A1, U2]: D + Pu + U1 + Qu + Pa + A1 + Qa + Pu + U2 + Qu, where D is the default system text.
    const [x0, x1, y] = split(render([user(U1), asst, user(U2)]), [U1, A1]) ?? [];
    // Qa from [U1, A1] (a template may open the *last* assistant turn differently, e.g. Qwen3's empty
    // think block, but closes it the same way).
    const qa = split(render([user(U1), asst]), [U1, A1])?.[2];
    if (x0 === undefined || x1 === undefined || y === undefined || qa === undefined || !y.startsWith(qa))
      return;
    const [pu, qu] = around(y.slice(qa.length), U2) ?? [];
    if (pu === undefined || qu === undefined || !x1.startsWith(qu) || !x0.endsWith(pu)) return;
    const u = render([user(U1)]);
    const ug = render([user(U1)], true);
    if (!ug.startsWith(u)) return;
    // [S, U1]: Ps + S + Qs + Pu + U1 + Qu.
    const [s0, s1] = split(render([sys, user(U1)]), [SYS, U1]) ?? [];
    if (s0 === undefined || s1 === undefined || !s1.endsWith(pu)) return;
    const blocks: ChatBlocks = {
      defaultSystem: x0.slice(0, x0.length - pu.length),
      system: [s0, s1.slice(0, s1.length - pu.length)],
      user: [pu, qu],
      assistant: [x1.slice(qu.length), qa],
      generation: ug.slice(u.length),
    };
    // Check: conversations that end with a user turn (what Ollama renders) come out the same both ways.
    const conv: Message[] = [sys, user(U1), asst, user(U2)];
    for (const [msgs, gen] of [
      [conv, true],
      [conv, false],
      [conv.slice(1), true],
      [conv.slice(1, 2), false],
    ] as const) {
      if (render([...msgs], gen) !== renderWithBlocks(blocks, [...msgs], gen)) return;
    }
    return blocks;
  } catch {
    return undefined;
  }
}

/** Splits text at markers that each occur exactly once, in order. */
function split(text: string, markers: string[]): string[] | undefined {
  const out: string[] = [];
  let rest = text;
  for (const m of markers) {
    const parts = around(rest, m);
    if (!parts) return undefined;
    out.push(parts[0]);
    rest = parts[1];
  }
  out.push(rest);
  return out;
}

/** Go template literal text: "{{" would open an action. */
const lit = (s: string) => s.replaceAll('{{', '{{ "{{" }}');

/** The Go template for Ollama (system from .System; user and assistant turns from .Messages). */
export function goTemplate(b: ChatBlocks): string {
  return [
    `{{- if .System }}${lit(b.system[0])}{{ .System }}${lit(b.system[1])}{{ else }}${lit(b.defaultSystem)}{{ end }}`,
    '{{- range $i, $_ := .Messages }}',
    '{{- $last := eq (len (slice $.Messages $i)) 1 }}',
    `{{- if eq .Role "user" }}${lit(b.user[0])}{{ .Content }}${lit(b.user[1])}` +
      `{{ else if eq .Role "assistant" }}${lit(b.assistant[0])}{{ .Content }}${lit(b.assistant[1])}{{ end }}`,
    `{{- if and $last (ne .Role "assistant") }}${lit(b.generation)}{{ end }}`,
    '{{- end }}',
  ].join('\n');
}

export interface ModelfileInput extends Partial<ChatTemplateInput> {
  /** Path (relative to the Modelfile, or absolute) of the model: a GGUF file or an HF model folder. */
  from: string;
  /** Path of the GGUF LoRA adapter, when it is a separate file. */
  adapter?: string;
  /** Lines written as comments at the top. */
  comments?: string[];
  /** More stop strings (e.g. every EOS of generation_config.json). */
  stopTokens?: string[];
}

/** Stop strings: the end-of-turn text after the assistant's content, the EOS token and any others given. */
function stops(b: ChatBlocks | undefined, input: ModelfileInput): string[] {
  const out = new Set<string>();
  const eot = b?.assistant[1].trim();
  if (eot) out.add(eot);
  for (const s of [input.eosToken, ...(input.stopTokens ?? [])]) if (s) out.add(s);
  return [...out];
}

const quote = (s: string) => JSON.stringify(s);

export function ollamaModelfile(input: ModelfileInput): string {
  const lines = (input.comments ?? []).map((c) => `# ${c}`);
  lines.push(`FROM ${input.from}`);
  if (input.adapter) lines.push(`ADAPTER ${input.adapter}`);
  const blocks = input.chatTemplate ? chatBlocks(input as ChatTemplateInput) : undefined;
  if (blocks) {
    const t = goTemplate(blocks);
    if (!t.includes('"""')) lines.push(`TEMPLATE """${t}"""`);
  } else if (input.chatTemplate) {
    lines.push('# The chat template could not be expressed as an Ollama TEMPLATE; add one by hand.');
  }
  for (const s of stops(blocks, input)) lines.push(`PARAMETER stop ${quote(s)}`);
  return lines.join('\n') + '\n';
}

/** The Modelfile for a model's GGUF export: chat template, special tokens and BOS handling from its files. */
export function modelfileForModel(
  model: Pick<LoadedModel, 'config' | 'files'>,
  opts: { from: string; adapter?: string; comments?: string[] },
): string {
  const f = model.files;
  const input: ModelfileInput = { ...opts };
  if (f.tokenizerJson && f.chatTemplate) {
    const tok = loadTokenizer(f.tokenizerJson, f.tokenizerConfig);
    const plain = tok.encode('a', { addSpecialTokens: false });
    const full = tok.encode('a', { addSpecialTokens: true });
    const name = (id: number | undefined | null) =>
      id === undefined || id === null ? undefined : tok.idToToken(id);
    input.chatTemplate = f.chatTemplate;
    input.templateKwargs = defaultTemplateKwargs(model.config.model_type);
    input.bosToken = name(tok.bosId ?? model.config.bos_token_id);
    input.eosToken = name(tok.eosId ?? model.config.eos_token_id[0]);
    input.addBos = full.length > plain.length && full[0] !== plain[0];
    const gen = f.generationConfig as { eos_token_id?: unknown } | undefined;
    const ids = [gen?.eos_token_id ?? model.config.eos_token_id].flat();
    input.stopTokens = ids
      .map((id) => (typeof id === 'number' ? name(id) : undefined))
      .filter((t) => t !== undefined);
  }
  return ollamaModelfile(input);
}
