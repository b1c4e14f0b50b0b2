// Chat tab actions: send a message and stream the reply (base, tuned, or both side by side), stop streaming.
import type { Message } from '../../data/rows';
import { useStudio } from '../../state/store';
import type { ChatTurn } from '../../state/chat';
import { cb, engine, errorText, isCancelled, newJobId, untilLost } from '../engine';

const st = () => useStudio.getState();
let turnIds = 0;

/** The conversation so far as messages, using the tuned reply where there is one. */
function history(turns: ChatTurn[], which: 'base' | 'tuned'): Message[] {
  const out: Message[] = [];
  const sys = st().chatSystem.trim();
  if (sys) out.push({ role: 'system', content: sys });
  for (const t of turns) {
    const r = t.replies[which] ?? t.replies.tuned ?? t.replies.base;
    out.push({ role: 'user', content: t.user });
    if (r && !r.error) out.push({ role: 'assistant', content: r.text });
  }
  return out;
}

async function stream(
  turnId: number,
  which: 'base' | 'tuned',
  messages: Message[],
  adapterId: string | null,
) {
  const jobId = newJobId('chat');
  st().patchReply(turnId, which, { jobId });
  try {
    const res = await untilLost((e) =>
      e.generate(
        { messages, adapterId, sampling: st().sampling },
        cb((delta: string) => st().appendReply(turnId, which, delta)),
        jobId,
      ),
    );
    st().patchReply(turnId, which, { jobId: null, tokens: res.tokens, ms: res.ms });
  } catch (e) {
    st().patchReply(turnId, which, { jobId: null, error: isCancelled(e) ? null : errorText(e) });
  }
}

export async function send(text: string) {
  const s = st();
  if (s.modelStatus !== 'ready') return s.notify('error', 'load a model on the Model tab first');
  const previous = s.turns;
  const id = ++turnIds;
  const adapter = s.chatAdapterId;
  const both = s.compare && adapter !== null;
  const blank = { text: '', jobId: null, error: null };
  s.addTurn({
    id,
    user: text,
    replies: adapter === null ? { base: blank } : both ? { base: blank, tuned: blank } : { tuned: blank },
  });
  const jobs: Promise<void>[] = [];
  if (adapter === null || both)
    jobs.push(stream(id, 'base', [...history(previous, 'base'), { role: 'user', content: text }], null));
  if (adapter !== null)
    jobs.push(stream(id, 'tuned', [...history(previous, 'tuned'), { role: 'user', content: text }], adapter));
  await Promise.all(jobs);
}

export function stopStreaming() {
  for (const t of st().turns)
    for (const r of Object.values(t.replies)) if (r?.jobId) void engine().cancel(r.jobId);
}

export const isStreaming = (turns: ChatTurn[]) =>
  turns.some((t) => Object.values(t.replies).some((r) => r?.jobId));
