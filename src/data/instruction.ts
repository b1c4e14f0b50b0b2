// The instruction text of a row, what Self-Instruct's ROUGE-L filter and the diversity view compare:
// alpaca `instruction` + (" " + `input` when non-empty); `prompt`; the first user turn of a conversation.
// Text and pre-tokenized rows have none.
import type { DataRecord } from './records';
import type { Message } from './rows';

const USER_ROLES = new Set(['user', 'human']);

function firstUserTurn(list: unknown): string | undefined {
  if (!Array.isArray(list)) return undefined;
  for (const m of list) {
    if (typeof m !== 'object' || m === null) continue;
    const o = m as Record<string, unknown>;
    const role = o.role ?? o.from;
    const content = o.content ?? o.value;
    if (typeof role === 'string' && USER_ROLES.has(role.toLowerCase()) && typeof content === 'string')
      return content;
  }
  return undefined;
}

/** A row as stored in a file (any of the formats of DESIGN §3). */
export function instructionOf(r: DataRecord): string | undefined {
  if (r.messages !== undefined) return firstUserTurn(r.messages);
  if (r.conversations !== undefined) return firstUserTurn(r.conversations);
  if (typeof r.instruction === 'string') {
    const input = typeof r.input === 'string' ? r.input : '';
    return input !== '' ? `${r.instruction} ${input}` : r.instruction;
  }
  if (typeof r.prompt === 'string') return r.prompt;
  if (Array.isArray(r.prompt)) return firstUserTurn(r.prompt);
  return undefined;
}

/** A normalised conversation (alpaca rows were joined with "\n\n" there: the first user turn as it is). */
export function instructionOfMessages(messages: readonly Message[]): string | undefined {
  return messages.find((m) => m.role === 'user')?.content;
}

/** First word of an instruction, lowercased: Self-Instruct's "leading verb" view of diversity. */
export function leadingWord(instruction: string): string | undefined {
  const m = /[A-Za-z][A-Za-z'-]*/.exec(instruction);
  return m ? m[0].toLowerCase() : undefined;
}
