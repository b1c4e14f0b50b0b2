// Token statistics of the active dataset: totals, rows over max length, and a length histogram (uPlot
// bars) with the max-length cut marked. Counts come from the worker with the loaded model's tokenizer.
import { useMemo } from 'react';
import uPlot from 'uplot';
import { useStudio } from '../../state/store';
import { axis, Chart } from '../chart/UPlot';
import { Stat } from '../common';
import { count } from '../format';

/** Bins over the lengths; the max-length mark is in range unless it is far beyond every row. */
function histogram(
  lengths: number[],
  maxLen: number,
): { data: uPlot.AlignedData; width: number; showsMax: boolean } {
  const longest = Math.max(1, ...lengths);
  const showsMax = maxLen <= longest * 1.5;
  const top = showsMax ? Math.max(maxLen, longest) : longest;
  const bins = 24;
  const width = Math.max(1, Math.ceil(top / bins));
  const xs = Array.from({ length: Math.ceil(top / width) + 1 }, (_, i) => i * width);
  const ys = xs.map(() => 0);
  for (const l of lengths) ys[Math.min(xs.length - 1, Math.floor(l / width))]++;
  // empty bins draw nothing (null) rather than a zero-height sliver
  return { data: [xs.map((x) => x + width / 2), ys.map((y) => y || null)], width, showsMax };
}

export function DataStats() {
  const preview = useStudio((s) => s.preview);
  const error = useStudio((s) => s.previewError);
  const maxLen = useStudio((s) => s.trainForm.maxLen);
  const modelReady = useStudio((s) => s.modelStatus === 'ready');
  const counts = useMemo(() => (preview?.counts ?? []).filter((c) => !c.error), [preview]);
  const lengths = useMemo(() => counts.map((c) => c.tokens), [counts]);
  const hist = useMemo(() => histogram(lengths, maxLen), [lengths, maxLen]);
  if (!modelReady)
    return <div className="muted">Load a model to count tokens with its tokenizer and chat template.</div>;
  if (error) return <div className="error-box">{error}</div>;
  if (!preview) return <div className="muted">Counting tokens…</div>;
  const total = lengths.reduce((a, b) => a + b, 0);
  const trained = counts.reduce((a, c) => a + c.trained, 0);
  const over = counts.filter((c) => c.truncated).length;
  return (
    <>
      <div className="stats">
        <Stat label="Rows counted" value={count(counts.length)} />
        <Stat label="Tokens" value={count(total)} />
        <Stat
          label="Trained tokens"
          value={count(trained)}
          title="tokens inside assistant turns (the loss)"
        />
        <Stat
          label="Mean / max length"
          value={`${lengths.length ? Math.round(total / lengths.length) : 0} / ${Math.max(0, ...lengths)}`}
        />
        <Stat
          label={`Over max length ${maxLen}`}
          value={<span className={over ? 'over' : ''}>{over}</span>}
        />
      </div>
      <Chart
        label={`Histogram of row lengths in tokens; ${over} rows exceed the max length ${maxLen}`}
        data={hist.data}
        height={150}
        layoutKey={`${maxLen}-${hist.width}-${hist.showsMax}`}
        options={(_w, c) => ({
          legend: { show: false },
          cursor: { show: true, points: { show: false } },
          scales: { x: { time: false }, y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
          axes: [
            axis(c, { label: 'tokens per row', labelSize: 16, labelFont: '11px system-ui' }),
            axis(c, { size: 36 }),
          ],
          series: [
            {},
            {
              label: 'rows',
              fill: c.series[0] + '99',
              stroke: c.series[0],
              width: 1,
              paths: uPlot.paths.bars!({ size: [0.9, 60] }),
              points: { show: false },
            },
          ],
          hooks: {
            draw: [
              (u) => {
                if (!hist.showsMax) return;
                const x = u.valToPos(maxLen, 'x', true);
                const ctx = u.ctx;
                ctx.save();
                ctx.strokeStyle = c.series[1];
                ctx.setLineDash([4, 3]);
                ctx.lineWidth = 1.5 * devicePixelRatio;
                ctx.beginPath();
                ctx.moveTo(x, u.bbox.top);
                ctx.lineTo(x, u.bbox.top + u.bbox.height);
                ctx.stroke();
                ctx.restore();
              },
            ],
          },
        })}
      />
      <div className="legend-line">
        {hist.showsMax ? (
          <>
            <span className="swatch limit" /> max length {maxLen}: longer rows are truncated
          </>
        ) : (
          <>every row is far below the max length ({maxLen})</>
        )}
      </div>
    </>
  );
}
