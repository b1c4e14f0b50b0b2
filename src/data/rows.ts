// One dataset row → a normalised Row (DESIGN §3 "Data rows"): the row format is detected per row from its
// keys, validated, and turned into chat messages, plain text or token ids. Problems come back as a
// sentence (no location); the container parser in formats.ts adds the file and line.

export type Role = 'system' | 'user' | 'assistant';
export interface Message {
  role: Role;
  content: string;
}

export type RowFormat = 'messages' | 'alpaca' | 'sharegpt' | 'prompt_completion' | 'text' | 'tokens';

export type RowBody =
  | {
      kind: 'chat';
      messages: Message[];
      /** Came from a flat alpaca or prompt/completion row: without a chat template it is concatenated. */
      flat: boolean;
    }
  | { kind: 'text'; text: string }
  | { kind: 'tokens'; input_ids: number[]; labels: number[] };

export type Row = RowBody & {
  format: RowFormat;
  /** JSONL/CSV: 1-based line of the file; JSON array: item number from 1 (`data[0]` is "item 1"). */
  line: number;
  /** Where to point the user, e.g. "data.jsonl:3" or "data.json item 7". */
  where: string;
};

/** Label value of a position that is not trained (HF convention). */
export const IGNORE_INDEX = -100;

export const EXPECTED_FORMATS =
  'messages, instruction/output, conversations, prompt/completion, text, input_ids';

export interface RowOptions {
  /** Token ids must be < vocabSize (pre-tokenized rows). */
  vocabSize?: number;
  /** CSV cells are strings: only the flat formats are possible. */
  csv?: boolean;
}

export type RowResult = { ok: true; row: RowBody & { format: RowFormat } } | { ok: false; message: string };

const fail = (message: string): RowResult => ({ ok: false, message });

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Normalises one parsed row (a JSON object, or a CSV record of strings). */
export function normalizeRow(value: unknown, opts: RowOptions = {}): RowResult {
  if (!isObject(value)) return fail(`expected a JSON object, got ${typeName(value)}`);
  const has = (k: string) => value[k] !== undefined;
  if (!opts.csv) {
    if (has('messages'))
      return withFormat(chatFromList(value.messages, 'messages', value.system), 'messages');
    if (has('conversations'))
      return withFormat(chatFromList(value.conversations, 'conversations', value.system), 'sharegpt');
  }
  if (has('instruction') && has('output')) return alpaca(value);
  if (has('prompt') && has('completion')) return promptCompletion(value);
  if (has('text')) return text(value.text);
  if (!opts.csv && has('input_ids')) return tokens(value.input_ids, value.labels, opts.vocabSize);
  const keys = Object.keys(value);
  const expected = opts.csv
    ? 'instruction/output, prompt/completion, text (CSV holds flat rows only)'
    : EXPECTED_FORMATS;
  return fail(
    `unknown row format (keys: ${keys.length ? keys.join(', ') : 'none'}); expected one of ${expected}`,
  );
}

function withFormat(r: RowResult, format: RowFormat): RowResult {
  return r.ok ? { ok: true, row: { ...r.row, format } } : r;
}

const ROLE_NAMES: Record<string, Role> = {
  system: 'system',
  user: 'user',
  human: 'user',
  assistant: 'assistant',
  gpt: 'assistant',
};

/** A list of {role, content} or ShareGPT {from, value} messages (either spelling in either field). */
function chatFromList(list: unknown, field: string, system: unknown): RowResult {
  if (!Array.isArray(list) || list.length === 0)
    return fail(`"${field}" must be a non-empty array of messages`);
  const messages: Message[] = [];
  if (typeof system === 'string' && system !== '' && !(isObject(list[0]) && roleOf(list[0]) === 'system'))
    messages.push({ role: 'system', content: system });
  for (let i = 0; i < list.length; i++) {
    const m = list[i];
    const n = i + 1;
    if (!isObject(m)) return fail(`message ${n} is ${typeName(m)}, not an object`);
    const rawRole = m.role ?? m.from;
    const role = typeof rawRole === 'string' ? ROLE_NAMES[rawRole.toLowerCase()] : undefined;
    if (!role)
      return fail(
        `message ${n} has role ${JSON.stringify(rawRole ?? null)}; expected system, user (human) or assistant (gpt)`,
      );
    const content = m.content !== undefined ? m.content : m.value;
    if (typeof content !== 'string')
      return fail(`message ${n} (${role}): content is ${typeName(content)}, not a string`);
    messages.push({ role, content });
  }
  return checkChat(messages, false);
}

function roleOf(m: Record<string, unknown>): Role | undefined {
  const r = m.role ?? m.from;
  return typeof r === 'string' ? ROLE_NAMES[r.toLowerCase()] : undefined;
}

/** After an optional system message, user and assistant alternate, starting with user, ending with assistant. */
function checkChat(messages: Message[], flat: boolean): RowResult {
  const start = messages[0]?.role === 'system' ? 1 : 0;
  if (messages.length === start) return fail('the conversation has no user or assistant message');
  for (let i = start; i < messages.length; i++) {
    const want: Role = (i - start) % 2 === 0 ? 'user' : 'assistant';
    const m = messages[i];
    if (m.role !== want)
      return fail(
        `roles out of order: message ${i + 1} is "${m.role}" where "${want}" was expected ` +
          '(after an optional system message, user and assistant must alternate, starting with user)',
      );
    if (m.role === 'assistant' && m.content.trim() === '')
      return fail(`empty assistant turn (message ${i + 1})`);
  }
  const last = messages[messages.length - 1];
  if (last.role !== 'assistant')
    return fail(`the last message must be from the assistant, not "${last.role}"`);
  return { ok: true, row: { kind: 'chat', messages, flat, format: 'messages' } };
}

function stringField(o: Record<string, unknown>, key: string, optional: boolean): string | RowResult {
  const v = o[key];
  if (optional && (v === undefined || v === null)) return '';
  if (typeof v !== 'string') return fail(`"${key}" is ${typeName(v)}, not a string`);
  return v;
}

function alpaca(o: Record<string, unknown>): RowResult {
  const f = ['instruction', 'input', 'output', 'system'].map((k) =>
    stringField(o, k, k === 'input' || k === 'system'),
  );
  const bad = f.find((x) => typeof x !== 'string');
  if (bad) return bad as RowResult;
  const [instruction, input, output, system] = f as string[];
  if (output.trim() === '') return fail('empty assistant turn ("output" is empty)');
  const messages: Message[] = [];
  if (system !== '') messages.push({ role: 'system', content: system });
  messages.push({ role: 'user', content: input !== '' ? `${instruction}\n\n${input}` : instruction });
  messages.push({ role: 'assistant', content: output });
  return { ok: true, row: { kind: 'chat', messages, flat: true, format: 'alpaca' } };
}

/** Flat strings, or TRL's conversational form where prompt and completion are message lists. */
function promptCompletion(o: Record<string, unknown>): RowResult {
  if (Array.isArray(o.prompt) && Array.isArray(o.completion))
    return withFormat(
      chatFromList([...o.prompt, ...o.completion], 'prompt/completion', o.system),
      'prompt_completion',
    );
  const prompt = stringField(o, 'prompt', false);
  if (typeof prompt !== 'string') return prompt;
  const completion = stringField(o, 'completion', false);
  if (typeof completion !== 'string') return completion;
  if (completion.trim() === '') return fail('empty assistant turn ("completion" is empty)');
  const messages: Message[] = [
    { role: 'user', content: prompt },
    { role: 'assistant', content: completion },
  ];
  return { ok: true, row: { kind: 'chat', messages, flat: true, format: 'prompt_completion' } };
}

function text(v: unknown): RowResult {
  if (typeof v !== 'string') return fail(`"text" is ${typeName(v)}, not a string`);
  if (v.trim() === '') return fail('"text" is empty');
  return { ok: true, row: { kind: 'text', text: v, format: 'text' } };
}

function idList(
  v: unknown,
  field: string,
  vocabSize: number | undefined,
  allowIgnore: boolean,
): number[] | string {
  if (!Array.isArray(v)) return `"${field}" is ${typeName(v)}, not an array of integers`;
  for (let i = 0; i < v.length; i++) {
    const x = v[i];
    if (typeof x !== 'number' || !Number.isInteger(x))
      return `${field}[${i}] is not an integer (${JSON.stringify(x)})`;
    if (allowIgnore && x === IGNORE_INDEX) continue;
    if (x < 0 || (vocabSize !== undefined && x >= vocabSize))
      return `${field}[${i}] = ${x} is outside the vocabulary (0..${vocabSize !== undefined ? vocabSize - 1 : '∞'})`;
  }
  return v as number[];
}

function tokens(ids: unknown, labels: unknown, vocabSize: number | undefined): RowResult {
  const input_ids = idList(ids, 'input_ids', vocabSize, false);
  if (typeof input_ids === 'string') return fail(input_ids);
  if (input_ids.length === 0) return fail('"input_ids" is empty');
  if (labels === undefined || labels === null)
    return { ok: true, row: { kind: 'tokens', input_ids, labels: input_ids.slice(), format: 'tokens' } };
  const lab = idList(labels, 'labels', vocabSize, true);
  if (typeof lab === 'string') return fail(lab);
  if (lab.length !== input_ids.length)
    return fail(
      `"labels" has ${lab.length} entries but "input_ids" has ${input_ids.length}; they must match`,
    );
  return { ok: true, row: { kind: 'tokens', input_ids, labels: lab, format: 'tokens' } };
}
