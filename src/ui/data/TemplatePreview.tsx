// One row as the model sees it: the chat template applied, trained tokens highlighted, tokens beyond max
// length struck through. Text only (the model's special tokens are shown literally, never as HTML).
import { useStudio } from '../../state/store';

export function TemplatePreview() {
  const preview = useStudio((s) => s.preview);
  const row = useStudio((s) => s.previewRow);
  if (!preview?.segments) return <div className="muted">Select a row number in the table to preview it.</div>;
  return (
    <div>
      <div className="muted small">
        Row {row + 1},{' '}
        {preview.templated
          ? "rendered with the model's chat template"
          : 'no chat template: turns concatenated, EOS appended'}
        .
      </div>
      <pre className="template-preview" aria-label={`Template preview of row ${row + 1}`}>
        {preview.segments.map((s, i) => (
          <span key={i} className={`seg ${s.kind}`}>
            {s.text}
          </span>
        ))}
      </pre>
      <div className="legend-line">
        <span className="swatch trained" /> trained (in the loss) <span className="swatch prompt" /> prompt
        (context only) <span className="swatch cut" /> beyond max length
      </div>
    </div>
  );
}
