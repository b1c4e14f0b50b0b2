// Live training charts (uPlot): train and validation loss, learning rate, gradient norm, tokens/s.
import { useMemo } from 'react';
import type uPlot from 'uplot';
import type { LiveRun } from '../../state/train';
import { axis, Chart, type ChartColors, type ChartOptions } from '../chart/UPlot';

const line = (label: string, stroke: string, extra: Partial<uPlot.Series> = {}): uPlot.Series => ({
  label,
  stroke,
  width: 1.5,
  points: { show: false },
  ...extra,
});

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
      x: { time: false },
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
    return [steps, steps.map((s) => train.get(s) ?? null), steps.map((s) => byStep.get(s) ?? null)];
  }, [metrics, val]);
  const steps = useMemo(() => metrics.map((m) => m.step), [metrics]);
  const lr = useMemo<uPlot.AlignedData>(() => [steps, metrics.map((m) => m.lr)], [steps, metrics]);
  const gn = useMemo<uPlot.AlignedData>(() => [steps, metrics.map((m) => m.grad_norm)], [steps, metrics]);
  const tps = useMemo<uPlot.AlignedData>(
    () => [steps, metrics.map((m) => (m.ms > 0 ? (1000 * m.tokens) / m.ms : null))],
    [steps, metrics],
  );
  return (
    <div className="charts">
      <div className="chart-box wide">
        <h3>Loss</h3>
        <Chart
          label="Training and validation loss by step"
          data={lossData}
          height={220}
          options={(_w, c) => ({
            ...baseOpts(c, 'loss'),
            series: [
              { label: 'step' },
              line('train', c.series[0]),
              line('validation', c.series[1], { spanGaps: true, points: { show: true, size: 6 } }),
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
            series: [
              { label: 'step' },
              line('lr', c.series[2], { value: (_u, v) => (v == null ? '–' : v.toExponential(2)) }),
            ],
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
            series: [{ label: 'step' }, line('grad norm', c.series[3])],
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
            series: [{ label: 'step' }, line('tokens/s', c.series[4])],
          })}
        />
      </div>
    </div>
  );
}
