// Dataset parsing: every container and row format is detected, and every bad row gets its message at the
// right line (JSONL/CSV) or item (JSON array).

import { describe, expect, it } from 'vitest';
import { UserError } from '../errors';
import { parseDataset, parseDatasetStrict, toJsonl } from './formats';

const jsonl = (...rows: unknown[]) =>
  rows.map((r) => (typeof r === 'string' ? r : JSON.stringify(r))).join('\n');
const user = (content: string) => ({ role: 'user', content });
const asst = (content: string) => ({ role: 'assistant', content });

describe('row formats', () => {
  it('detects each format per row of one JSONL file', () => {
    const text = jsonl(
      { messages: [{ role: 'system', content: 'Be brief.' }, user('Hi'), asst('Hello!')] },
      { instruction: 'Translate', input: 'chat', output: 'cat', system: 'You translate.' },
      '',
      { instruction: 'Say hi', input: '', output: 'hi' },
      {
        conversations: [
          { from: 'system', value: 'S' },
          { from: 'human', value: 'Q' },
          { from: 'gpt', value: 'A' },
        ],
      },
      { prompt: 'The sky is', completion: ' blue.' },
      { text: 'Once upon a time.' },
      { input_ids: [1, 2, 3] },
      { input_ids: [1, 2, 3], labels: [-100, 2, 3] },
    );
    const { rows, errors } = parseDataset(text, 'data.jsonl');
    expect(errors).toEqual([]);
    expect(rows.map((r) => [r.format, r.kind, r.line, r.where])).toEqual([
      ['messages', 'chat', 1, 'data.jsonl:1'],
      ['alpaca', 'chat', 2, 'data.jsonl:2'],
      ['alpaca', 'chat', 4, 'data.jsonl:4'],
      ['sharegpt', 'chat', 5, 'data.jsonl:5'],
      ['prompt_completion', 'chat', 6, 'data.jsonl:6'],
      ['text', 'text', 7, 'data.jsonl:7'],
      ['tokens', 'tokens', 8, 'data.jsonl:8'],
      ['tokens', 'tokens', 9, 'data.jsonl:9'],
    ]);
    expect(rows[1]).toMatchObject({
      flat: true,
      messages: [
        { role: 'system', content: 'You translate.' },
        { role: 'user', content: 'Translate\n\nchat' },
        { role: 'assistant', content: 'cat' },
      ],
    });
    expect(rows[2]).toMatchObject({ messages: [user('Say hi'), asst('hi')] });
    expect(rows[0]).toMatchObject({ flat: false });
    expect(rows[3]).toMatchObject({
      flat: false,
      messages: [{ role: 'system', content: 'S' }, user('Q'), asst('A')],
    });
    expect(rows[4]).toMatchObject({ flat: true, messages: [user('The sky is'), asst(' blue.')] });
    expect(rows[5]).toMatchObject({ text: 'Once upon a time.' });
    expect(rows[6]).toMatchObject({ input_ids: [1, 2, 3], labels: [1, 2, 3] });
    expect(rows[7]).toMatchObject({ input_ids: [1, 2, 3], labels: [-100, 2, 3] });
  });

  it('reads JSON arrays, {"data": [...]} wrappers, single-row objects and JSON Lines named .json', () => {
    const items = [{ text: 'a' }, { prompt: 'p', completion: 'c' }];
    const arr = parseDataset(JSON.stringify(items, null, 2), 'd.json');
    expect(arr.errors).toEqual([]);
    expect(arr.rows.map((r) => [r.format, r.line, r.where])).toEqual([
      ['text', 1, 'd.json item 1'],
      ['prompt_completion', 2, 'd.json item 2'],
    ]);
    expect(parseDataset(JSON.stringify({ version: 2, data: items }), 'd.json').rows).toHaveLength(2);
    const one = parseDataset(JSON.stringify({ messages: [user('q'), asst('a')] }), 'd.json');
    expect(one.rows.map((r) => r.format)).toEqual(['messages']);
    const lines = parseDataset(jsonl(...items), 'd.json');
    expect(lines.rows.map((r) => r.where)).toEqual(['d.json:1', 'd.json:2']);
  });

  it('reads CSV and TSV with a header, quoted newlines and blank lines', () => {
    const csv = 'instruction,input,output\r\nName a colour,,"red\nor blue"\r\n\r\nAdd,"1, 2",3\r\n';
    const { rows, errors } = parseDataset(csv, 'd.csv');
    expect(errors).toEqual([]);
    expect(rows.map((r) => [r.format, r.line])).toEqual([
      ['alpaca', 2],
      ['alpaca', 5],
    ]);
    expect(rows[0]).toMatchObject({ messages: [user('Name a colour'), asst('red\nor blue')] });
    expect(rows[1]).toMatchObject({ messages: [user('Add\n\n1, 2'), asst('3')] });
    expect(parseDataset('prompt,completion\nA,B\n', 'd.csv').rows[0].format).toBe('prompt_completion');
    expect(parseDataset('text\nhello, world\n', 'd.tsv').rows[0]).toMatchObject({ text: 'hello, world' });
    expect(parseDataset('\uFEFFtext\n"hi"\n', 'd.csv').rows[0]).toMatchObject({ format: 'text', text: 'hi' });
  });

  it('exports rows as JSON Lines in the messages format', () => {
    const text = jsonl(
      { instruction: 'I', output: 'O' },
      { text: 't' },
      { input_ids: [5, 6] },
      { input_ids: [5, 6], labels: [-100, 6] },
    );
    const out = toJsonl(parseDataset(text, 'd.jsonl').rows);
    expect(out).toBe(
      jsonl(
        { messages: [user('I'), asst('O')] },
        { text: 't' },
        { input_ids: [5, 6] },
        { input_ids: [5, 6], labels: [-100, 6] },
      ) + '\n',
    );
    expect(parseDataset(out, 'e.jsonl').rows.map((r) => r.kind)).toEqual([
      'chat',
      'text',
      'tokens',
      'tokens',
    ]);
  });
});

describe('bad rows', () => {
  const errorsOf = (text: string, file = 'data.jsonl', vocabSize?: number) =>
    parseDataset(text, file, { vocabSize }).errors.map((e) => `${e.where}: ${e.message}`);

  it.each([
    ['{"text": "ok"', /^data\.jsonl:2: invalid JSON/],
    [
      { foo: 1, bar: 2 },
      'data.jsonl:2: unknown row format (keys: foo, bar); expected one of messages, instruction/output, conversations, prompt/completion, text, input_ids',
    ],
    [[1, 2], 'data.jsonl:2: expected a JSON object, got an array'],
    [
      { messages: [asst('a'), user('q')] },
      /^data\.jsonl:2: roles out of order: message 1 is "assistant" where "user"/,
    ],
    [
      { messages: [user('q'), user('q2'), asst('a')] },
      /^data\.jsonl:2: roles out of order: message 2 is "user"/,
    ],
    [
      { messages: [user('q'), asst('a'), user('q2')] },
      'data.jsonl:2: the last message must be from the assistant, not "user"',
    ],
    [{ messages: [user('q'), asst(' ')] }, 'data.jsonl:2: empty assistant turn (message 2)'],
    [
      { messages: [user('q'), { role: 'assistant', content: 5 }] },
      'data.jsonl:2: message 2 (assistant): content is a number, not a string',
    ],
    [{ messages: [{ role: 'tool', content: 'x' }] }, /^data\.jsonl:2: message 1 has role "tool"/],
    [{ messages: [] }, 'data.jsonl:2: "messages" must be a non-empty array of messages'],
    [
      {
        conversations: [
          { from: 'human', value: 'q' },
          { from: 'gpt', value: null },
        ],
      },
      /message 2 \(assistant\): content is null/,
    ],
    [{ instruction: 'I', output: '' }, 'data.jsonl:2: empty assistant turn ("output" is empty)'],
    [{ instruction: 3, output: 'o' }, 'data.jsonl:2: "instruction" is a number, not a string'],
    [{ prompt: 'p', completion: '' }, 'data.jsonl:2: empty assistant turn ("completion" is empty)'],
    [{ text: '' }, 'data.jsonl:2: "text" is empty'],
    [{ input_ids: [1, 2.5] }, 'data.jsonl:2: input_ids[1] is not an integer (2.5)'],
    [{ input_ids: [1, '2'] }, 'data.jsonl:2: input_ids[1] is not an integer ("2")'],
    [
      { input_ids: [1, 2], labels: [2] },
      'data.jsonl:2: "labels" has 1 entries but "input_ids" has 2; they must match',
    ],
    [{ input_ids: [1, 100] }, 'data.jsonl:2: input_ids[1] = 100 is outside the vocabulary (0..99)'],
    [
      { input_ids: [1, 2], labels: [-100, 100] },
      'data.jsonl:2: labels[1] = 100 is outside the vocabulary (0..99)',
    ],
  ])('%j', (row, expected) => {
    const text = jsonl({ text: 'good' }, row as object | string, { text: 'good' });
    const errors = errorsOf(text, 'data.jsonl', 100);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(expected);
  });

  it('names JSON array items by index and CSV records by line', () => {
    const arr = JSON.stringify([{ text: 'a' }, { text: 'b' }, { text: 'c' }, { output: 'x' }]);
    expect(errorsOf(arr, 'd.json')).toEqual([
      'd.json item 4: unknown row format (keys: output); expected one of messages, instruction/output, conversations, prompt/completion, text, input_ids',
    ]);
    expect(errorsOf('[{"text": "a"},\n{"text": }]', 'd.json')[0]).toMatch(/^d\.json:2: invalid JSON/);
    const csv = 'instruction,input,output\na,,b\n\n"multi\nline",,c\nd,e\nf,,\n';
    expect(errorsOf(csv, 'd.csv')).toEqual([
      'd.csv:6: CSV: expected 3 fields (as in the header) but found 2',
      'd.csv:7: empty assistant turn ("output" is empty)',
    ]);
    expect(errorsOf('messages\n"[]"\n', 'd.csv')[0]).toMatch(
      /^d\.csv:2: unknown row format \(keys: messages\).*CSV/,
    );
    expect(errorsOf('', 'd.jsonl')).toEqual(['d.jsonl: the file is empty']);
    expect(errorsOf('\n\n', 'd.jsonl')).toEqual(['d.jsonl: the file is empty']);
  });

  it('parseDatasetStrict throws one UserError listing the first problems', () => {
    const text = jsonl({ text: 'ok' }, { text: 'ok' }, { foo: 1, bar: 2 }, ...Array(7).fill({ text: 3 }));
    let err: unknown;
    try {
      parseDatasetStrict(text, 'data.jsonl');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UserError);
    const lines = (err as UserError).message.split('\n');
    expect(lines[0]).toBe(
      'data.jsonl:3: unknown row format (keys: foo, bar); expected one of messages, instruction/output, conversations, prompt/completion, text, input_ids',
    );
    expect(lines.slice(1)).toEqual([
      'data.jsonl:4: "text" is a number, not a string',
      'data.jsonl:5: "text" is a number, not a string',
      'data.jsonl:6: "text" is a number, not a string',
      'data.jsonl:7: "text" is a number, not a string',
      '(and 3 more problems)',
    ]);
    expect((err as UserError).where).toBe('data.jsonl:3');
    expect(parseDatasetStrict(jsonl({ text: 'ok' }), 'data.jsonl')).toHaveLength(1);
  });
});
