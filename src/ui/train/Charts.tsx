// Live training charts (uPlot): train and validation loss, learning rate, gradient norm, tokens/s. The
// legend shows the value under the cursor, else the latest one; the loss chart's accessible name
// summarises the curve (first and last loss) for screen readers.
import { useMemo } from 'react';
import type uPlot from 'uplot';
import type { LiveRun } from '../../state/train';
import { axis, Chart, type ChartColors, type ChartOptions } from '../chart/UPlot';

/** The newest non-null value of a series (shown in the legend when the cursor is off the chart). */
function latest(u: uPlot, seriesIdx: number): number | null {
  const d = u.data[seriesIdx] as (number | null | undefined)[];
  for (let i = d.length - 1; i >= 0; i--) if (d[i] != null) return d[i]!;
  return null;
}

type Fmt = (v: number) => string;
const plain: Fmt = (v) => (Math.abs(v) >= 100 ? v.toFixed(0) : v.toPrecision(4));

/** Legend value: the hovered point, or the latest one while the cursor is elsewhere. */
const legendValue =
  (fmt: Fmt) =>
  (u: uPlot, v: number | null, si: number, idx: number | null): string => {
    const x = idx == null ? latest(u, si) : v;
    return x == null ? '–' : fmt(x);
  };

const line = (
  label: string,
  stroke: string,
  extra: Partial<uPlot.Series> = {},
  fmt: Fmt = plain,
): uPlot.Series => ({
  label,
  stroke,
  width: 1.5,
  points: { show: false },
  value: legendValue(fmt),
  ...extra,
});

const stepSeries: uPlot.Series = { label: 'step', value: legendValue((v) => String(v)) };

/** Steps are integers: no fractional ticks on the x axis. */
const STEP_INCRS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000];

function baseOpts(
  c: ChartColors,
  yLabel: string,
  y: { format?: (v: number) => string; fromZero?: boolean } = {},
): Omit<ChartOptions, 'series'> {
  return {
    legend: { show: true, live: true },
    cursor: { points: { size: 5 } },
    scales: {
      // a little room either side so the first and last points (often validation) are not cut in half
      x: {
        time: false,
        range: (_u: uPlot, min: number, max: number): uPlot.Range.MinMax => {
          const pad = Math.max(0.25, (max - min) * 0.02);
          return [min - pad, max + pad];
        },
      },
      ...(y.fromZero
        ? {
            y: {
              range: (_u: uPlot, _min: number, max: number): uPlot.Range.MinMax => [
                0,
                max > 0 ? max * 1.15 : 1,
              ],
            },
          }
        : {}),
    },
    axes: [
      axis(c, { label: 'step', labelSize: 14, labelFont: '11px system-ui', incrs: STEP_INCRS }),
      axis(c, {
        size: 56,
        label: yLabel,
        labelSize: 14,
        labelFont: '11px system-ui',
        ...(y.format ? { values: (_u: uPlot, splits: number[]) => splits.map((v) => y.format!(v)) } : {}),
      }),
    ],
  };
}

const sci = (v: number) => (v === 0 ? '0' : v.toExponential(1));

export function TrainCharts({ run }: { run: LiveRun }) {
  const { metrics, val } = run;
  const lossData = useMemo<uPlot.AlignedData>(() => {
    // validation points placed at their steps; gaps elsewhere (spanGaps draws the line through)
    const byStep = new Map(val.map((v) => [v.step, v.loss]));
    const steps = [...new Set([...metrics.map((m) => m.step), ...val.map((v) => v.step)])].sort(
      (a, b) => a - b,
    );
    const train = new Map(metrics.map((m) => [m.step, m.loss]));
    const trainLoss = steps.map((s) => train.get(s) ?? null);
    // no validation series (nor its legend entry) for a run without a validation split
    if (val.length === 0) return [steps, trainLoss];
    return [steps, trainLoss, steps.map((s) => byStep.get(s) ?? null)];
  }, [metrics, val]);
  const hasVal = lossData.length > 2;
  const steps = useMemo(() => metrics.map((m) => m.step), [metrics]);
  const lr = useMemo<uPlot.AlignedData>(() => [steps, metrics.map((m) => m.lr)], [steps, metrics]);
  const gn = useMemo<uPlot.AlignedData>(() => [steps, metrics.map((m) => m.grad_norm)], [steps, metrics]);
  const tps = useMemo<uPlot.AlignedData>(
    () => [steps, metrics.map((m) => (m.ms > 0 ? (1000 * m.tokens) / m.ms : null))],
    [steps, metrics],
  );
  const trainLoss = metrics.filter((m) => Number.isFinite(m.loss));
  const first = trainLoss[0];
  const last = trainLoss[trainLoss.length - 1];
  const lastVal = val[val.length - 1];
  const summary = [
    first && `train loss ${first.loss.toFixed(4)} at step ${first.step}`,
    last && last !== first && `${last.loss.toFixed(4)} at step ${last.step}`,
    lastVal && `validation loss ${lastVal.loss.toFixed(4)} at step ${lastVal.step}`,
  ]
    .filter(Boolean)
    .join(', ');
  return (
    <div className="charts">
      <div className="chart-box wide">
        <h3>Loss</h3>
        <Chart
          label={`Training and validation loss by step${summary ? `: ${summary}` : ''}`}
          data={lossData}
          height={220}
          layoutKey={hasVal ? 'train+val' : 'train'}
          options={(_w, c) => ({
            ...baseOpts(c, 'loss'),
            series: [
              stepSeries,
              line('train', c.series[0]),
              ...(hasVal
                ? [
                    line('validation', c.series[1], {
                      spanGaps: true,
                      points: { show: true, size: 8, fill: c.series[1] },
                    }),
                  ]
                : []),
            ],
          })}
        />
      </div>
      <div className="chart-box">
        <h3>Learning rate</h3>
        <Chart
          label="Learning rate by step"
          data={lr}
          height={140}
          options={(_w, c) => ({
            ...baseOpts(c, 'lr', { format: sci, fromZero: true }),
            series: [stepSeries, line('lr', c.series[2], {}, (v) => v.toExponential(2))],
          })}
        />
      </div>
      <div className="chart-box">
        <h3>Gradient norm</h3>
        <Chart
          label="Gradient norm by step"
          data={gn}
          height={140}
          options={(_w, c) => ({
            ...baseOpts(c, 'norm'),
            series: [stepSeries, line('grad norm', c.series[3])],
          })}
        />
      </div>
      <div className="chart-box">
        <h3>Throughput</h3>
        <Chart
          label="Trained tokens per second by step"
          data={tps}
          height={140}
          options={(_w, c) => ({
            ...baseOpts(c, 'tok/s', { fromZero: true }),
            series: [stepSeries, line('tokens/s', c.series[4], {}, (v) => v.toFixed(1))],
          })}
        />
      </div>
    </div>
  );
}
