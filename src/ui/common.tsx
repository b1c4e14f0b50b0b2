// Small shared UI pieces: progress bar, labelled fields with help text, cards, notices. Everything user- or
// model-provided is rendered as React text children (escaped), never as HTML.
import { useId, type ReactNode } from 'react';
import { useStudio } from '../state/store';
import { NumberInput } from './NumberInput';

export function ProgressBar(props: { value: number; max: number; label: string; detail?: string }) {
  const pct = props.max > 0 ? Math.min(100, (100 * props.value) / props.max) : 0;
  return (
    <div className="progress">
      <div
        className="progress-track"
        role="progressbar"
        aria-label={props.label}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={props.max > 0 ? Math.round(pct) : undefined}
        aria-valuetext={props.detail}
      >
        <div
          className={`progress-fill${props.max > 0 ? '' : ' indeterminate'}`}
          style={{ width: props.max > 0 ? `${pct}%` : undefined }}
        />
      </div>
      {props.detail && <div className="progress-detail">{props.detail}</div>}
    </div>
  );
}

export function Card(props: {
  title?: string;
  actions?: ReactNode;
  children: ReactNode;
  className?: string;
}) {
  return (
    <section className={`card ${props.className ?? ''}`} aria-label={props.title}>
      {(props.title || props.actions) && (
        <header className="card-head">
          {props.title && <h2>{props.title}</h2>}
          {props.actions && <div className="card-actions">{props.actions}</div>}
        </header>
      )}
      {props.children}
    </section>
  );
}

/** A label, a control and its help line; the control gets the label and the help as its description. */
export function Field(props: {
  label: string;
  help?: string;
  children: (id: string, describedBy?: string) => ReactNode;
  wide?: boolean;
}) {
  const id = useId();
  const helpId = props.help ? `${id}-help` : undefined;
  return (
    <div className={`field${props.wide ? ' wide' : ''}`}>
      <label htmlFor={id}>{props.label}</label>
      {props.children(id, helpId)}
      {props.help && (
        <div className="help" id={helpId}>
          {props.help}
        </div>
      )}
    </div>
  );
}

/** A labelled number input: parsed when committed (blur, Enter); invalid text stays, marked invalid. */
export function NumberField(props: {
  label: string;
  help?: string;
  value: number;
  onChange: (v: number) => void;
  min?: number;
  max?: number;
  integer?: boolean;
  onValidity?: (error: string | null) => void;
}) {
  return (
    <Field label={props.label} help={props.help}>
      {(id, d) => (
        <NumberInput
          id={id}
          describedBy={d}
          rule={{ min: props.min, max: props.max, integer: props.integer }}
          value={props.value}
          onCommit={props.onChange}
          onValidity={props.onValidity}
        />
      )}
    </Field>
  );
}

/** A table header: column names (`#` marks a numeric, right-aligned column) and an actions column. */
export function TableHead(props: { columns: readonly string[]; actions?: boolean }) {
  return (
    <thead>
      <tr>
        {props.columns.map((c) =>
          c.startsWith('#') && c.length > 1 ? (
            <th key={c} scope="col" className="num">
              {c.slice(1)}
            </th>
          ) : (
            <th key={c} scope="col" className={c === '#' ? 'num' : undefined}>
              {c}
            </th>
          ),
        )}
        {props.actions && (
          <th scope="col">
            <span className="sr-only">Actions</span>
          </th>
        )}
      </tr>
    </thead>
  );
}

export function Stat(props: { label: string; value: ReactNode; title?: string }) {
  return (
    <div className="stat" title={props.title}>
      <div className="stat-label">{props.label}</div>
      <div className="stat-value">{props.value}</div>
    </div>
  );
}

export function Notices() {
  const notices = useStudio((s) => s.notices);
  const dismiss = useStudio((s) => s.dismiss);
  return (
    <div className="notices" role="status" aria-live="polite">
      {notices.map((n) => (
        <div key={n.id} className={`notice ${n.kind}`} role={n.kind === 'error' ? 'alert' : undefined}>
          <span className="notice-text">{n.text}</span>
          <button className="ghost small" aria-label="Dismiss message" onClick={() => dismiss(n.id)}>
            ×
          </button>
        </div>
      ))}
    </div>
  );
}

export function Empty(props: { children: ReactNode }) {
  return <div className="empty">{props.children}</div>;
}
