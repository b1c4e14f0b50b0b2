// Accessible tabs (WAI-ARIA tabs pattern): role=tablist/tab/tabpanel, arrow keys, Home/End. Panels stay
// mounted (hidden) so charts and scroll positions survive switching.
import { useRef, type KeyboardEvent, type ReactNode } from 'react';

export interface TabDef {
  id: string;
  /** The accessible name, exactly as shown. */
  label: string;
  render: () => ReactNode;
}

export function Tabs(props: { tabs: TabDef[]; selected: string; onSelect: (id: string) => void }) {
  const refs = useRef<Record<string, HTMLButtonElement | null>>({});
  const ids = props.tabs.map((t) => t.id);
  const onKey = (e: KeyboardEvent) => {
    // Move from the focused tab (focus may sit on a tab other than the selected one).
    const focused = (e.target as HTMLElement).id.replace(/^tab-/, '');
    const i = Math.max(0, ids.indexOf(ids.includes(focused) ? focused : props.selected));
    const next =
      e.key === 'ArrowRight'
        ? ids[(i + 1) % ids.length]
        : e.key === 'ArrowLeft'
          ? ids[(i - 1 + ids.length) % ids.length]
          : e.key === 'Home'
            ? ids[0]
            : e.key === 'End'
              ? ids[ids.length - 1]
              : null;
    if (!next) return;
    e.preventDefault();
    props.onSelect(next);
    refs.current[next]?.focus();
  };
  return (
    <>
      <nav className="tabbar">
        <div role="tablist" aria-label="Studio sections" onKeyDown={onKey}>
          {props.tabs.map((t) => (
            <button
              key={t.id}
              ref={(el) => {
                refs.current[t.id] = el;
              }}
              role="tab"
              id={`tab-${t.id}`}
              aria-selected={t.id === props.selected}
              aria-controls={`panel-${t.id}`}
              tabIndex={t.id === props.selected ? 0 : -1}
              onClick={() => props.onSelect(t.id)}
            >
              {t.label}
            </button>
          ))}
        </div>
      </nav>
      {props.tabs.map((t) => (
        <section
          key={t.id}
          role="tabpanel"
          id={`panel-${t.id}`}
          aria-labelledby={`tab-${t.id}`}
          hidden={t.id !== props.selected}
          className="panel"
        >
          {t.render()}
        </section>
      ))}
    </>
  );
}
