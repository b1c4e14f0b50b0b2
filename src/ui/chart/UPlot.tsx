// A thin React wrapper over uPlot: creates the plot once per options object, swaps data in place, follows
// the container's width (ResizeObserver; hidden tabs have width 0 and are skipped) and the color scheme.
import { useEffect, useRef } from 'react';
import uPlot from 'uplot';

export interface ChartProps {
  /** Build options for a width; called again when the color scheme changes. */
  options: (width: number, colors: ChartColors) => ChartOptions;
  data: uPlot.AlignedData;
  /** Accessible description of what the chart shows. */
  label: string;
  height?: number;
  /** Recreate the plot when this changes (series set changed). */
  layoutKey?: string;
}

export type ChartOptions = Omit<uPlot.Options, 'width' | 'height'>;

export interface ChartColors {
  text: string;
  grid: string;
  series: string[];
}

const dark = () => matchMedia('(prefers-color-scheme: dark)').matches;

export function chartColors(): ChartColors {
  return dark()
    ? {
        text: '#aab1c0',
        grid: 'rgba(255,255,255,0.08)',
        series: ['#818cf8', '#f472b6', '#34d399', '#fbbf24', '#60a5fa'],
      }
    : {
        text: '#4b5263',
        grid: 'rgba(0,0,0,0.07)',
        series: ['#4f46e5', '#db2777', '#059669', '#d97706', '#2563eb'],
      };
}

/** Axis styling shared by all charts. */
export function axis(c: ChartColors, extra: Partial<uPlot.Axis> = {}): uPlot.Axis {
  return {
    stroke: c.text,
    grid: { stroke: c.grid, width: 1 },
    ticks: { stroke: c.grid, width: 1 },
    font: '11px system-ui, sans-serif',
    ...extra,
  };
}

export function Chart(props: ChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const latest = useRef(props);
  latest.current = props;

  useEffect(() => {
    const el = box.current!;
    let scheme = dark();
    const make = (width: number) => {
      plot.current?.destroy();
      const opts = latest.current.options(width, chartColors());
      plot.current = new uPlot(
        { ...opts, width, height: latest.current.height ?? 180 },
        latest.current.data,
        el,
      );
    };
    const ro = new ResizeObserver(() => {
      const w = Math.floor(el.clientWidth);
      if (w <= 0) return;
      if (!plot.current) make(w);
      else plot.current.setSize({ width: w, height: latest.current.height ?? 180 });
    });
    ro.observe(el);
    const mq = matchMedia('(prefers-color-scheme: dark)');
    const onScheme = () => {
      if (dark() !== scheme && el.clientWidth > 0) make(Math.floor(el.clientWidth));
      scheme = dark();
    };
    mq.addEventListener('change', onScheme);
    return () => {
      ro.disconnect();
      mq.removeEventListener('change', onScheme);
      plot.current?.destroy();
      plot.current = null;
    };
  }, [props.layoutKey]);

  useEffect(() => {
    plot.current?.setData(props.data);
  }, [props.data]);

  return <div ref={box} className="chart" role="img" aria-label={props.label} />;
}
