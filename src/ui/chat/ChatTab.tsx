// Chat tab: streaming replies from the base model or base + a saved adapter, or both side by side; stop;
// system prompt and sampling parameters. Model output is rendered as plain text.
import { useEffect, useRef, useState } from 'react';
import { useStudio } from '../../state/store';
import type { Reply } from '../../state/chat';
import { isStreaming, send, stopStreaming } from '../actions/chat';
import { Card, Empty, Field, NumberField } from '../common';

function ReplyBox({ title, reply }: { title: string; reply: Reply }) {
  return (
    <div className="reply" aria-label={`${title} reply`} aria-busy={reply.jobId !== null}>
      <div className="reply-head">
        <span>{title}</span>
        {reply.tokens !== undefined && reply.ms !== undefined && (
          <span className="muted small">
            {reply.tokens} tokens · {((1000 * reply.tokens) / Math.max(1, reply.ms)).toFixed(1)} tok/s
          </span>
        )}
      </div>
      <div className="reply-text">
        {reply.text}
        {reply.jobId && <span className="caret" aria-hidden="true" />}
      </div>
      {reply.error && <div className="error-box">{reply.error}</div>}
    </div>
  );
}

function Settings() {
  const s = useStudio();
  return (
    <Card title="Settings">
      <Field
        label="Adapter"
        help="None chats with the base model; pick a saved adapter to chat with the tuned model."
      >
        {(id, d) => (
          <select
            id={id}
            aria-describedby={d}
            value={s.chatAdapterId ?? ''}
            onChange={(e) => s.setChat({ chatAdapterId: e.target.value || null })}
          >
            <option value="">none (base model)</option>
            {s.adapters.map((a) => (
              <option key={a.id} value={a.id}>
                {a.name}
              </option>
            ))}
          </select>
        )}
      </Field>
      <label className="check">
        <input
          type="checkbox"
          checked={s.compare}
          disabled={!s.chatAdapterId}
          onChange={(e) => s.setChat({ compare: e.target.checked })}
        />
        Compare base and tuned side by side
      </label>
      <Field label="System prompt">
        {(id) => (
          <textarea
            id={id}
            rows={3}
            value={s.chatSystem}
            placeholder="optional"
            onChange={(e) => s.setChat({ chatSystem: e.target.value })}
          />
        )}
      </Field>
      <div className="form-grid pairs">
        <NumberField
          label="Max new tokens"
          min={1}
          max={4096}
          integer
          value={s.sampling.maxNewTokens}
          onChange={(v) => s.setSampling({ maxNewTokens: v })}
        />
        <NumberField
          label="Temperature"
          help="0 = greedy"
          min={0}
          max={2}
          value={s.sampling.temperature}
          onChange={(v) => s.setSampling({ temperature: v })}
        />
        <NumberField
          label="Top-p"
          min={0}
          max={1}
          value={s.sampling.topP}
          onChange={(v) => s.setSampling({ topP: v })}
        />
        <NumberField
          label="Top-k"
          help="0 = off"
          min={0}
          integer
          value={s.sampling.topK}
          onChange={(v) => s.setSampling({ topK: v })}
        />
        <NumberField
          label="Seed"
          min={0}
          integer
          value={s.sampling.seed}
          onChange={(v) => s.setSampling({ seed: v })}
        />
      </div>
    </Card>
  );
}

export function ChatTab() {
  const turns = useStudio((s) => s.turns);
  const adapters = useStudio((s) => s.adapters);
  const adapterId = useStudio((s) => s.chatAdapterId);
  const ready = useStudio((s) => s.modelStatus === 'ready');
  const clear = useStudio((s) => s.clearChat);
  const [text, setText] = useState('');
  const log = useRef<HTMLDivElement>(null);
  const streaming = isStreaming(turns);
  const tunedName = adapters.find((a) => a.id === adapterId)?.name ?? 'adapter';
  useEffect(() => {
    log.current?.scrollTo({ top: log.current.scrollHeight });
  }, [turns]);
  const submit = () => {
    const t = text.trim();
    if (!t || streaming) return;
    setText('');
    void send(t);
  };
  return (
    <div className="grid chat-grid">
      <Settings />
      <Card title="Conversation" className="chat-card">
        <div className="chat-log" ref={log} role="log" aria-label="Conversation" aria-live="polite">
          {turns.length === 0 && (
            <Empty>{ready ? 'Ask something to start.' : 'Load a model on the Model tab to chat.'}</Empty>
          )}
          {turns.map((t) => (
            <div key={t.id} className="turn">
              <div className="user-msg" aria-label="You">
                {t.user}
              </div>
              <div className={`replies${t.replies.base && t.replies.tuned ? ' two' : ''}`}>
                {t.replies.base && <ReplyBox title="Base model" reply={t.replies.base} />}
                {t.replies.tuned && <ReplyBox title={`Tuned: ${tunedName}`} reply={t.replies.tuned} />}
              </div>
            </div>
          ))}
        </div>
        <form
          className="composer"
          onSubmit={(e) => {
            e.preventDefault();
            submit();
          }}
        >
          <textarea
            aria-label="Message"
            rows={2}
            value={text}
            placeholder="Message (Enter sends, Shift+Enter for a new line)"
            onChange={(e) => setText(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === 'Enter' && !e.shiftKey) {
                e.preventDefault();
                submit();
              }
            }}
          />
          <div className="button-col">
            {streaming ? (
              <button type="button" className="danger" onClick={stopStreaming}>
                Stop
              </button>
            ) : (
              <button type="submit" className="primary" disabled={!ready || !text.trim()}>
                Send
              </button>
            )}
            <button
              type="button"
              className="ghost small"
              disabled={streaming || turns.length === 0}
              onClick={clear}
            >
              Clear
            </button>
          </div>
        </form>
      </Card>
    </div>
  );
}
