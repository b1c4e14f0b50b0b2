// Rows → ids and labels with real tokenizers: which tokens are trained for chat rows (Qwen3 template),
// base-model concatenation, text and token rows, train-on-prompt, truncation and dropped rows.

import { describe, expect, it } from 'vitest';
import { parseDatasetStrict } from '../../data/formats';
import { IGNORE_INDEX, type Row } from '../../data/rows';
import { countTrained, encodeChatPrompt, encodeDataset, encodeRow, type EncodeContext } from './encode';
import { defaultTemplateKwargs, pickChatTemplate } from './template';
import type { TextTokenizer } from './tokenizer';
import { llama2, qwen3 } from './test-tokenizers_node';

const rowsOf = (...rows: object[]): Row[] =>
  parseDatasetStrict(rows.map((r) => JSON.stringify(r)).join('\n'), 'data.jsonl');
const user = (content: string) => ({ role: 'user', content });
const asst = (content: string) => ({ role: 'assistant', content });

/** The decoded text of each maximal run of trained labels. */
function trainedRuns(tok: TextTokenizer, labels: number[]): string[] {
  const runs: number[][] = [];
  labels.forEach((l, t) => {
    if (l === IGNORE_INDEX) return;
    if (t > 0 && labels[t - 1] !== IGNORE_INDEX) runs[runs.length - 1].push(l);
    else runs.push([l]);
  });
  return runs.map((r) => tok.decode(r));
}

function qwenCtx(over: Partial<EncodeContext> = {}): EncodeContext {
  const { tok, config } = qwen3();
  return {
    tokenizer: tok,
    template: pickChatTemplate(config),
    templateKwargs: defaultTemplateKwargs('qwen3'),
    maxLen: 1024,
    trainOnPrompt: false,
    ...over,
  };
}

describe('chat rows with the Qwen3 template', () => {
  it('trains exactly the reply, its <|im_end|> and the newline the template emits after it', () => {
    const ctx = qwenCtx();
    const [row] = rowsOf({ messages: [user('Hi'), asst('Hello there!')] });
    const ex = encodeRow(row, ctx);
    expect(ctx.tokenizer.decode(ex.input_ids)).toBe(
      '<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\nHello there!<|im_end|>\n',
    );
    expect(trainedRuns(ctx.tokenizer, ex.labels)).toEqual(['Hello there!<|im_end|>\n']);
    expect(ex.input_ids.slice(-2)).toEqual([151645, 198]);
    ex.labels.forEach((l, t) => expect(l === IGNORE_INDEX || l === ex.input_ids[t]).toBe(true));
    // The prompt part is exactly what chat-time generation feeds the model.
    const prompt = encodeChatPrompt([{ role: 'user', content: 'Hi' }], ctx);
    expect(ex.input_ids.slice(0, prompt.length)).toEqual(prompt);
    expect(ex.labels.slice(0, prompt.length).every((l) => l === IGNORE_INDEX)).toBe(true);
    expect(ex.labels[prompt.length]).not.toBe(IGNORE_INDEX);
    expect(ex.truncated).toBe(false);
  });

  it('multi-turn: trains both assistant turns, never the system or user turns', () => {
    const ctx = qwenCtx();
    const [row] = rowsOf({
      messages: [
        { role: 'system', content: 'You are terse.' },
        user('Hi'),
        asst('Hello!'),
        user('What is 2+2?'),
        asst('4'),
      ],
    });
    const ex = encodeRow(row, ctx);
    expect(ctx.tokenizer.decode(ex.input_ids)).toBe(
      '<|im_start|>system\nYou are terse.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n' +
        '<|im_start|>assistant\nHello!<|im_end|>\n<|im_start|>user\nWhat is 2+2?<|im_end|>\n' +
        '<|im_start|>assistant\n<think>\n\n</think>\n\n4<|im_end|>\n',
    );
    expect(trainedRuns(ctx.tokenizer, ex.labels)).toEqual(['Hello!<|im_end|>\n', '4<|im_end|>\n']);
  });

  it('alpaca rows become system/user/assistant turns', () => {
    const ctx = qwenCtx();
    const [row] = rowsOf({ system: 'S', instruction: 'Translate', input: 'chat', output: 'cat' });
    const ex = encodeRow(row, ctx);
    expect(ctx.tokenizer.decode(ex.input_ids)).toBe(
      '<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nTranslate\n\nchat<|im_end|>\n' +
        '<|im_start|>assistant\n<think>\n\n</think>\n\ncat<|im_end|>\n',
    );
    expect(trainedRuns(ctx.tokenizer, ex.labels)).toEqual(['cat<|im_end|>\n']);
  });

  it('trainOnPrompt trains every token', () => {
    const ctx = qwenCtx({ trainOnPrompt: true });
    const ex = encodeRow(rowsOf({ messages: [user('Hi'), asst('Yo')] })[0], ctx);
    expect(ex.labels).toEqual(ex.input_ids);
  });

  it('a template whose generation prompt is not a prefix of the reply rendering is an error naming the row', () => {
    const template =
      "{% for m in messages %}{{ m.role + ': ' + m.content + '\\n' }}{% endfor %}{% if add_generation_prompt %}ASSISTANT:{% endif %}";
    const rows = rowsOf({ text: 'fine' }, { messages: [user('Hi'), asst('Yo')] });
    const { examples, issues } = encodeDataset(rows, qwenCtx({ template }));
    expect(examples).toHaveLength(1);
    expect(issues).toEqual([
      {
        where: 'data.jsonl:2',
        message:
          'chat template is not prefix-stable: the generation prompt is not a prefix of the rendering with the reply (assistant turn 1)',
      },
    ]);
  });
});

describe('chat rows with a Mistral-style template on the SentencePiece tokenizer', () => {
  it('labels line up although pieces tokenized alone would gain a "▁" (edges found by prefix tokenization)', () => {
    const { tok } = llama2();
    const template =
      "{{ bos_token }}{% for m in messages %}{% if m.role == 'user' %}{{ '[INST] ' + m.content + ' [/INST]' }}" +
      '{% else %}{{ m.content + eos_token }}{% endif %}{% endfor %}';
    const [row] = rowsOf({ messages: [user('Hi'), asst('Hello!'), user('Bye'), asst(' See you.')] });
    const ex = encodeRow(row, { tokenizer: tok, template, maxLen: 100, trainOnPrompt: false });
    const shown = ex.input_ids.map(
      (id, t) => tok.idToToken(id)! + (ex.labels[t] === IGNORE_INDEX ? '' : '*'),
    );
    expect(shown.join(' ')).toBe(
      '<s> ▁[ INST ] ▁Hi ▁[ / INST ] Hello* !* </s>* ▁[ INST ] ▁By e ▁[ / INST ] ▁See* ▁you* .* </s>*',
    );
    expect(ex.input_ids).toEqual(
      tok.encode('<s>[INST] Hi [/INST]Hello!</s>[INST] Bye [/INST] See you.</s>', {
        addSpecialTokens: false,
      }),
    );
  });
});

describe('rows without a chat template (base models)', () => {
  it('alpaca: prompt concatenated untrained, output and EOS trained (SentencePiece tokenizer)', () => {
    const { tok } = llama2();
    const ctx: EncodeContext = { tokenizer: tok, maxLen: 1024, trainOnPrompt: false };
    const [row] = rowsOf({ instruction: 'Name a colour', input: 'any', output: 'Red, like a rose.' });
    const ex = encodeRow(row, ctx);
    expect(ex.input_ids).toEqual([...tok.encode('Name a colour\n\nany\n\nRed, like a rose.'), 2]);
    expect(ex.input_ids[0]).toBe(1);
    expect(trainedRuns(tok, ex.labels)).toEqual(['Red, like a rose.</s>']);
    const prompt = tok.encode('Name a colour\n\nany\n\n');
    expect(ex.labels.slice(0, prompt.length).every((l) => l === IGNORE_INDEX)).toBe(true);
    expect(encodeChatPrompt(row.kind === 'chat' ? row.messages.slice(0, 1) : [], ctx)).toEqual(prompt);
  });

  it('prompt/completion is joined as is; multi-turn trains each reply', () => {
    const { tok } = qwen3();
    const ctx: EncodeContext = { tokenizer: tok, maxLen: 1024, trainOnPrompt: false };
    const [pc, multi] = rowsOf(
      { prompt: 'The sky is', completion: ' blue.' },
      { messages: [user('Q1'), asst('A1'), user('Q2'), asst('A2')] },
    );
    const a = encodeRow(pc, ctx);
    expect(tok.decode(a.input_ids)).toBe('The sky is blue.<|im_end|>');
    expect(trainedRuns(tok, a.labels)).toEqual([' blue.<|im_end|>']);
    const b = encodeRow(multi, ctx);
    expect(tok.decode(b.input_ids)).toBe('Q1\n\nA1\n\nQ2\n\nA2<|im_end|>');
    expect(trainedRuns(tok, b.labels)).toEqual(['A1', 'A2<|im_end|>']);
  });
});

describe('text and token rows', () => {
  it('text rows: all trained, EOS appended, BOS where the tokenizer adds one', () => {
    const q = encodeRow(rowsOf({ text: 'Once upon a time.' })[0], qwenCtx());
    expect(q.input_ids).toEqual([...qwen3().tok.encode('Once upon a time.'), 151645]);
    expect(q.labels).toEqual(q.input_ids);
    const { tok } = llama2();
    const l = encodeRow(rowsOf({ text: 'Once upon a time.' })[0], {
      tokenizer: tok,
      maxLen: 64,
      trainOnPrompt: false,
    });
    expect(l.input_ids[0]).toBe(1);
    expect(l.input_ids.at(-1)).toBe(2);
    expect(tok.decode(l.input_ids, { skipSpecialTokens: true })).toBe('Once upon a time.');
  });

  it('token rows are kept as given and checked against the vocabulary', () => {
    const rows = rowsOf({ input_ids: [5, 6, 7], labels: [-100, 6, -100] }, { input_ids: [5, 200000] });
    const { examples, issues } = encodeDataset(rows, qwenCtx({ trainOnPrompt: true }));
    expect(examples).toEqual([{ input_ids: [5, 6, 7], labels: [-100, 6, -100], truncated: false }]);
    expect(issues).toEqual([
      { where: 'data.jsonl:2', message: 'token id 200000 is outside the vocabulary (size 151669)' },
    ]);
  });
});

describe('encodeDataset', () => {
  it('truncates keeping the start, drops rows left with nothing to train, and counts', () => {
    const rows = rowsOf(
      { messages: [user('Hi'), asst('Hello there, how are you today?')] },
      { messages: [user('A long question that fills the whole window of tokens'), asst('ok')] },
      { input_ids: [1, 2, 3], labels: [-100, -100, -100] },
      { text: 'short' },
    );
    const { examples, stats, issues } = encodeDataset(rows, qwenCtx({ maxLen: 16 }));
    expect(issues).toEqual([
      { where: 'data.jsonl:2', message: 'nothing to train on after truncation to 16 tokens' },
      { where: 'data.jsonl:3', message: 'nothing to train on (every label is -100)' },
    ]);
    expect(examples.map((e) => [e.input_ids.length, e.truncated])).toEqual([
      [16, true],
      [2, false],
    ]);
    expect(stats).toEqual({
      rows: 2,
      truncated: 1,
      droppedEmpty: 2,
      tokens: 18,
      trainedTokens: countTrained(examples[0].labels) + 1,
    });
    expect(countTrained(examples[0].labels)).toBeGreaterThan(0);
    // Label 0 is never a target of the shifted loss.
    expect(countTrained([7, 8, IGNORE_INDEX, 9])).toBe(2);
  });
});

it('a bad max length is one error, not one per row', () => {
  expect(() => encodeDataset(rowsOf({ text: 'a' }, { text: 'b' }), qwenCtx({ maxLen: 1 }))).toThrow(
    'max length must be an integer ≥ 2, got 1',
  );
});
