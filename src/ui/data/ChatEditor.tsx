// Editor for a multi-turn row ("messages" with role/content, or ShareGPT "conversations" with from/value):
// the turns as a list with a role select and a content box, add and remove turns. Edits keep the row's own
// spelling so the stored row stays in its format; normalizeRow (src/data/rows.ts) judges the result.
import type { DataRow } from '../../storage/db';

type Role = 'system' | 'user' | 'assistant';
const ROLES: Role[] = ['system', 'user', 'assistant'];
const FROM_ROLE: Record<string, Role> = {
  system: 'system',
  user: 'user',
  human: 'user',
  assistant: 'assistant',
  gpt: 'assistant',
};
const SHAREGPT: Record<Role, string> = { system: 'system', user: 'human', assistant: 'gpt' };

type Turn = Record<string, unknown>;
const isTurn = (v: unknown): v is Turn => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The list field of a chat row, when every entry is an object the editor can show. */
export function chatList(row: DataRow): { field: 'messages' | 'conversations'; turns: Turn[] } | null {
  for (const field of ['messages', 'conversations'] as const) {
    const v = row[field];
    if (v === undefined) continue;
    return Array.isArray(v) && v.every(isTurn) ? { field, turns: v } : null;
  }
  return null;
}

const roleOf = (t: Turn): Role | '' => {
  const r = t.role ?? t.from;
  return typeof r === 'string' ? (FROM_ROLE[r.toLowerCase()] ?? '') : '';
};
const contentOf = (t: Turn): string => {
  const c = t.content !== undefined ? t.content : t.value;
  return typeof c === 'string' ? c : c === undefined || c === null ? '' : JSON.stringify(c);
};

/** A turn in the spelling of the list it joins (ShareGPT from/value, or role/content). */
function makeTurn(sharegpt: boolean, role: Role, content: string): Turn {
  return sharegpt ? { from: SHAREGPT[role], value: content } : { role, content };
}

function withRole(t: Turn, role: Role): Turn {
  if ('from' in t && !('role' in t)) return { ...t, from: SHAREGPT[role] };
  return { ...t, role };
}

function withContent(t: Turn, content: string): Turn {
  if ('value' in t && !('content' in t)) return { ...t, value: content };
  return { ...t, content };
}

export function ChatEditor(props: {
  row: DataRow;
  n: number;
  error?: string;
  /** delay: 0 for structural edits (saved at once), default while typing. */
  onChange: (row: DataRow, delay?: number) => void;
}) {
  const { row, n, onChange } = props;
  const list = chatList(row);
  if (!list) return null;
  const { field, turns } = list;
  const sharegpt = field === 'conversations' && (turns.length === 0 || 'from' in turns[0]);
  const put = (next: Turn[], delay?: number) => onChange({ ...row, [field]: next }, delay);
  const add = () => {
    const last = turns.length ? roleOf(turns[turns.length - 1]) : '';
    const role: Role = last === 'user' ? 'assistant' : 'user';
    put([...turns, makeTurn(sharegpt, role, '')], 0);
  };
  return (
    <div className="chat-editor">
      {typeof row.system === 'string' && (
        <label className="chat-turn">
          <span className="muted small">system prompt</span>
          <textarea
            aria-label={`Row ${n} system prompt`}
            rows={1}
            value={row.system}
            onChange={(e) => onChange({ ...row, system: e.target.value })}
          />
        </label>
      )}
      <ol className="chat-turns" aria-label={`Row ${n} turns`}>
        {turns.map((t, i) => {
          const k = i + 1;
          const role = roleOf(t);
          return (
            <li key={i} className={`chat-turn role-${role || 'unknown'}`}>
              <select
                aria-label={`Row ${n} turn ${k} role`}
                value={role}
                onChange={(e) =>
                  put(
                    turns.map((x, j) => (j === i ? withRole(x, e.target.value as Role) : x)),
                    0,
                  )
                }
              >
                {role === '' && <option value="">unknown role</option>}
                {ROLES.map((r) => (
                  <option key={r} value={r}>
                    {r}
                  </option>
                ))}
              </select>
              <textarea
                aria-label={`Row ${n} turn ${k} content`}
                rows={2}
                value={contentOf(t)}
                onChange={(e) => put(turns.map((x, j) => (j === i ? withContent(x, e.target.value) : x)))}
              />
              <button
                className="ghost small"
                aria-label={`Remove turn ${k} of row ${n}`}
                title="Remove this turn"
                onClick={() =>
                  put(
                    turns.filter((_, j) => j !== i),
                    0,
                  )
                }
              >
                ×
              </button>
            </li>
          );
        })}
      </ol>
      <div className="inline">
        <button className="small" aria-label={`Add turn to row ${n}`} onClick={add}>
          + Turn
        </button>
        <span className="muted small">
          {turns.length} turn{turns.length === 1 ? '' : 's'} ·{' '}
          {field === 'conversations' ? 'ShareGPT' : 'messages'}
        </span>
      </div>
      {props.error && (
        <div className="row-error chat-error" role="note" aria-label={`Row ${n} problem`}>
          {props.error}
        </div>
      )}
    </div>
  );
}
