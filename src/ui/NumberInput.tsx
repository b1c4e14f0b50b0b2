// A number box that keeps what the user types: the text is parsed when the user commits it (blur or
// Enter), never rewritten while typing. Text that is not a valid number in range stays as typed, marked
// aria-invalid with a message beside it, and the last good value is kept until it is fixed.
import { useEffect, useState } from 'react';

export interface NumberRule {
  integer?: boolean;
  min?: number;
  max?: number;
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

/** The value the text stands for, or why it is refused (a sentence fragment for the field's message). */
export function parseNumber(text: string, rule: NumberRule): { value: number } | { error: string } {
  const t = text.trim();
  if (t === '') return { error: 'enter a number' };
  if (!NUMBER.test(t)) return { error: `"${t}" is not a number` };
  const value = Number(t);
  if (!Number.isFinite(value)) return { error: `"${t}" is too large` };
  if (rule.integer && !Number.isInteger(value)) return { error: 'must be a whole number' };
  if (rule.min !== undefined && value < rule.min) return { error: `must be at least ${rule.min}` };
  if (rule.max !== undefined && value > rule.max) return { error: `must be at most ${rule.max}` };
  return { value };
}

export function NumberInput(props: {
  id: string;
  /** The accessible name where no <label> names the box. */
  ariaLabel?: string;
  describedBy?: string;
  value: number;
  rule: NumberRule;
  onCommit: (v: number) => void;
  /** Told when the field becomes invalid (a message) or valid again (null). */
  onValidity?: (error: string | null) => void;
  disabled?: boolean;
  className?: string;
}) {
  const [draft, setDraft] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const { onValidity } = props;
  // a field removed while invalid no longer blocks anything
  useEffect(() => () => onValidity?.(null), [onValidity]);
  const commit = () => {
    if (draft === null) return;
    const r = parseNumber(draft, props.rule);
    if ('error' in r) {
      setError(r.error);
      onValidity?.(r.error);
      return;
    }
    setDraft(null);
    setError(null);
    onValidity?.(null);
    if (r.value !== props.value) props.onCommit(r.value);
  };
  const errorId = `${props.id}-error`;
  const describedBy = [props.describedBy, error ? errorId : undefined].filter(Boolean).join(' ');
  return (
    <>
      <input
        id={props.id}
        aria-label={props.ariaLabel}
        className={props.className}
        type="text"
        inputMode={props.rule.integer ? 'numeric' : 'decimal'}
        autoComplete="off"
        spellCheck={false}
        aria-describedby={describedBy || undefined}
        aria-invalid={error ? true : undefined}
        disabled={props.disabled}
        value={draft ?? String(props.value)}
        onChange={(e) => setDraft(e.target.value)}
        onBlur={commit}
        onKeyDown={(e) => {
          if (e.key === 'Enter') commit();
          if (e.key === 'Escape') {
            setDraft(null);
            setError(null);
            onValidity?.(null);
          }
        }}
      />
      {error && (
        <div className="field-error" id={errorId}>
          {error}
        </div>
      )}
    </>
  );
}
