// Chat templates: the real Qwen3 template renders exactly what transformers renders (enable_thinking=false),
// templates are found where transformers looks, and template errors are UserErrors.

import { describe, expect, it } from 'vitest';
import { UserError } from '../errors';
import type { Message } from '../../data/rows';
import { defaultTemplateKwargs, pickChatTemplate, renderChat } from './template';
import { qwen3 } from './test-tokenizers_node';

const chat: Message[] = [
  { role: 'system', content: 'You are terse.' },
  { role: 'user', content: 'Hi' },
  { role: 'assistant', content: 'Hello!' },
  { role: 'user', content: 'What is 2+2?' },
  { role: 'assistant', content: '4' },
];

describe('renderChat with the Qwen3 template', () => {
  const template = pickChatTemplate(qwen3().config)!;
  const extra = defaultTemplateKwargs('qwen3');

  it('renders a 2-turn conversation: history turns plain, the last with an empty think block', () => {
    expect(renderChat(template, chat, { addGenerationPrompt: false, extra })).toBe(
      '<|im_start|>system\nYou are terse.<|im_end|>\n' +
        '<|im_start|>user\nHi<|im_end|>\n' +
        '<|im_start|>assistant\nHello!<|im_end|>\n' +
        '<|im_start|>user\nWhat is 2+2?<|im_end|>\n' +
        '<|im_start|>assistant\n<think>\n\n</think>\n\n4<|im_end|>\n',
    );
  });

  it('the generation prompt carries the empty think block when thinking is off', () => {
    expect(renderChat(template, chat.slice(0, 2), { addGenerationPrompt: true, extra })).toBe(
      '<|im_start|>system\nYou are terse.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n' +
        '<|im_start|>assistant\n<think>\n\n</think>\n\n',
    );
    expect(renderChat(template, chat.slice(1, 2), { addGenerationPrompt: true })).toBe(
      '<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n',
    );
  });
});

describe('pickChatTemplate', () => {
  it('prefers chat_template.jinja, then a string, then the "default" entry of a list', () => {
    expect(pickChatTemplate({ chat_template: 'A' }, 'J')).toBe('J');
    expect(pickChatTemplate({ chat_template: 'A' })).toBe('A');
    const list = [
      { name: 'tool_use', template: 'T' },
      { name: 'default', template: 'D' },
    ];
    expect(pickChatTemplate({ chat_template: list })).toBe('D');
    expect(pickChatTemplate({ chat_template: [{ name: 'rag', template: 'R' }] })).toBeUndefined();
    expect(pickChatTemplate({})).toBeUndefined();
    expect(pickChatTemplate(undefined)).toBeUndefined();
  });

  it('defaultTemplateKwargs turns Qwen3 thinking off and leaves others alone', () => {
    expect(defaultTemplateKwargs('qwen3')).toEqual({ enable_thinking: false });
    expect(defaultTemplateKwargs('llama')).toEqual({});
  });
});

describe('template errors', () => {
  const opts = { addGenerationPrompt: false };
  it.each([
    ['{% if %}', /^chat template failed to render: /],
    [
      "{{ raise_exception('Conversation roles must alternate') }}",
      'chat template failed to render: Conversation roles must alternate',
    ],
    ['{{ messages[0].content.nope() }}', /^chat template failed to render: /],
  ])('%s', (template, message) => {
    expect(() => renderChat(template, chat, opts)).toThrow(UserError);
    expect(() => renderChat(template, chat, opts)).toThrow(message);
  });

  it('passes bos/eos tokens and extra variables', () => {
    const t =
      '{{ bos_token }}{% for m in messages %}{{ m.role }}:{{ m.content }}{{ eos_token }}{% endfor %}{{ flag }}';
    const out = renderChat(t, chat.slice(1, 3), {
      addGenerationPrompt: false,
      bosToken: '<s>',
      eosToken: '</s>',
      extra: { flag: 'x' },
    });
    expect(out).toBe('<s>user:Hi</s>assistant:Hello!</s>x');
  });
});
