// `train`'s progress line on stderr, one per optimizer step: loss (and validation loss when measured), lr,
// gradient norm, tokens/s, and the time left, estimated from the recent steps (the first step, which builds
// and compiles the graphs, does not count).
import type { StepMetrics } from '../engine/train/trainer';

/** Steps the estimate averages over. */
const WINDOW = 20;

export class TrainProgress {
  private recent: number[] = [];

  constructor(
    private readonly total: number,
    /** the step the run started from (a resume): its first step builds the graphs */
    private readonly first = 0,
  ) {}

  line(m: StepMetrics, valLoss: number | undefined): string {
    if (m.step > this.first + 1) this.recent = [...this.recent, m.ms].slice(-WINDOW);
    const tps = (m.tokens / m.ms) * 1000;
    const left = this.total - m.step;
    const eta =
      left > 0 && this.recent.length
        ? `  ${clock((left * this.recent.reduce((a, b) => a + b, 0)) / this.recent.length)} left`
        : '';
    return (
      `step ${m.step}/${this.total}  loss ${m.loss.toFixed(4)}` +
      (valLoss !== undefined ? `  val ${valLoss.toFixed(4)}` : '') +
      `  lr ${m.lr.toExponential(2)}  grad_norm ${m.grad_norm.toFixed(3)}  ${tps.toFixed(0)} tok/s${eta}\n`
    );
  }
}

/** 42s, 3m 05s, 2h 07m */
export function clock(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const pad = (n: number) => String(n).padStart(2, '0');
  if (s < 3600) return `${Math.floor(s / 60)}m ${pad(s % 60)}s`;
  return `${Math.floor(s / 3600)}h ${pad(Math.floor((s % 3600) / 60))}m`;
}
