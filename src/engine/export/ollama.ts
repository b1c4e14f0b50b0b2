// An Ollama Modelfile for an exported GGUF (https://github.com/ollama/ollama/blob/main/docs/modelfile.md):
// FROM, ADAPTER when the adapter is a separate file, TEMPLATE as a Go template and PARAMETER stop.
// The Go template is derived by rendering the model's Jinja chat template with marker messages and cutting
// out the per-role blocks (ChatML as Qwen and the tiny models write it, Llama 3's header style, …); the
// blocks are then checked by re-rendering a longer conversation both ways, so a template we cannot express
// is left out rather than written wrong.

import type { Message } from '../../data/rows';
import { renderChat } from '../text/template';

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
  const render = (messages: Message[], gen: boolean) => {
    let text = renderChat(input.chatTemplate, messages, {
      addGenerationPrompt: gen,
      bosToken: input.bosToken,
      eosToken: input.eosToken,
      extra: input.templateKwargs,
    });
    if (input.addBos && input.bosToken && text.startsWith(input.bosToken)) text = text.slice(input.bosToken.length);
    return text;
  };
  try {
    const u = render([{ role: 'user', content: U1 }], false);
    const ug = render([{ role: 'user', content: U1 }], true);
    const su = render(
      [
        { role: 'system', content: SYS },
        { role: 'user', content: U1 },
      ],
      false,
    );
    const ua = render(
      [
        { role: 'user', content: U1 },
        { role: 'assistant', content: A1 },
      ],
      false,
    );
    const [defaultSystem, userRest] = around(u, U1) ?? [];
    if (defaultSystem === undefined || userRest === undefined || !ug.startsWith(u) || !ua.startsWith(u)) return;
    // The user block starts where the default system text ends; find it again after a real system block.
    const [beforeU1, afterU1] = around(su, U1) ?? [];
    if (beforeU1 === undefined || afterU1 !== userRest) return;
    const userPre = commonSuffix(defaultSystem, beforeU1, beforeU1.length - beforeU1.indexOf(SYS) - SYS.length);
    const sysBlock = beforeU1.slice(0, beforeU1.length - userPre.length);
    const system = around(sysBlock, SYS);
    if (!system) return;
    const blocks: ChatBlocks = {
      defaultSystem: defaultSystem.slice(0, defaultSystem.length - userPre.length),
      system,
      user: [userPre, userRest],
      assistant: around(ua.slice(u.length), A1) ?? ['', ''],
      generation: ug.slice(u.length),
    };
    if (!ua.slice(u.length).includes(A1)) return;
    // Check: a longer conversation renders the same both ways.
    const conv: Message[] = [
      { role: 'system', content: SYS },
      { role: 'user', content: U1 },
      { role: 'assistant', content: A1 },
      { role: 'user', content: U2 },
    ];
    for (const [msgs, gen] of [
      [conv, true],
      [conv.slice(1), true],
      [conv.slice(0, 3), false],
    ] as const) {
      if (render([...msgs], gen) !== renderWithBlocks(blocks, [...msgs], gen)) return;
    }
    return blocks;
  } catch {
    return undefined;
  }
}

/** The longest suffix of `b` that is also a suffix of `a`, at most `max` characters. */
function commonSuffix(a: string, b: string, max: number): string {
  let n = 0;
  while (n < max && n < a.length && n < b.length && a[a.length - 1 - n] === b[b.length - 1 - n]) n++;
  return b.slice(b.length - n);
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
}

/** Stop strings: the end-of-turn text after the assistant's content, and the EOS token. */
function stops(b: ChatBlocks | undefined, eos: string | undefined): string[] {
  const out = new Set<string>();
  const eot = b?.assistant[1].trim();
  if (eot) out.add(eot);
  if (eos) out.add(eos);
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
  for (const s of stops(blocks, input.eosToken)) lines.push(`PARAMETER stop ${quote(s)}`);
  return lines.join('\n') + '\n';
}
