// Train tab: the TrainConfig form with help and defaults, memory and work estimate, start / pause / resume /
// stop, progress with ETA, live charts and the run history.
import { useEffect, useState } from 'react';
import { resolveTrainConfig } from '../../engine/train/config';
import { useStudio } from '../../state/store';
import { liveRun } from '../../state/train';
import { continueRun, pauseRun, startTraining, stopRun, trainingNow } from '../actions/train';
import { Card, Field, ProgressBar, Stat } from '../common';
import { bytes, count, duration, flops, loss } from '../format';
import { errorText } from '../engine';
import { TrainCharts } from './Charts';
import { estimateTraining } from './estimate';
import { planStudioRun, type MemoryPlan } from '../../engine/train/planner';
import { RunHistory } from './RunHistory';
import { fieldLabel } from './help';
import { TrainForm } from './TrainForm';
import { stepNote } from './stepNote';

function Estimate() {
  const f = useStudio((s) => s.modelFacts);
  const form = useStudio((s) => s.trainForm);
  const device = useStudio((s) => s.device);
  const ds = useStudio((s) => s.datasets.find((d) => d.id === s.activeDatasetId));
  const counts = useStudio((s) => s.preview?.counts);
  const run = useStudio((s) => s.run);
  if (!f) return <div className="muted">Load a model to see memory and time estimates.</div>;
  const lens = (counts ?? []).filter((c) => !c.error).map((c) => Math.min(c.tokens, form.maxLen));
  const mean = lens.length ? lens.reduce((a, b) => a + b, 0) / lens.length : Math.min(256, form.maxLen);
  const cfg = { ...form, valSplit: ds?.valSplit ?? 0 };
  const est = estimateTraining(f, cfg, { rows: ds?.rows.length ?? 0, meanTokens: mean, device });
  // the engine's planner, as the worker will run it: plan, predicted peak, or why nothing fits
  let plan: MemoryPlan | null = null;
  let refusal: string | null = null;
  try {
    const backend = device?.backend ?? 'webgpu';
    const storage = f.source16 && (backend === 'wasm' || device?.f16) ? 'float16' : 'float32';
    const longest = lens.length ? Math.max(...lens) : form.maxLen;
    plan = planStudioRun(
      f.config,
      form,
      { backend, maxStorageBufferBindingSize: device?.maxStorageBufferBindingSize },
      storage,
      longest,
    );
  } catch (e) {
    refusal = errorText(e);
  }
  const recent = run?.metrics.slice(-10) ?? [];
  const tps = recent.length
    ? recent.reduce((a, m) => a + m.tokens, 0) / (recent.reduce((a, m) => a + m.ms, 0) / 1000)
    : 0;
  return (
    <>
      <div className="stats">
        <Stat
          label="Memory (planned)"
          value={plan ? `${bytes(plan.peak)} of ${bytes(plan.budget)}` : 'does not fit'}
          title={
            plan
              ? `weights ${bytes(plan.breakdown.weights)}, LoRA+AdamW ${bytes(plan.breakdown.lora)}, activations ${bytes(plan.breakdown.activations)}, logits ${bytes(plan.breakdown.head)}`
              : (refusal ?? '')
          }
        />
        <Stat
          label="Plan"
          value={plan ? (plan.plan === 'layerwise' ? 'layer-wise' : 'whole-model') : '—'}
          title={plan?.notes.join('; ') || 'one graph per step: the fastest where it fits'}
        />
        <Stat label="Trainable parameters" value={count(est.loraParams)} />
        <Stat label="Steps" value={count(est.steps)} />
        <Stat label="Tokens / step (est.)" value={count(Math.round(est.tokensPerStep))} />
        <Stat
          label="Work"
          value={flops(est.flopsPerStep * est.steps)}
          title="forward + backward floating-point operations for the whole run"
        />
        <Stat
          label="Time"
          value={tps > 0 ? duration((est.steps * est.tokensPerStep) / tps) : 'measured after the first steps'}
        />
      </div>
      {refusal && <div className="warn-box">{refusal}</div>}
      {est.problems.map((p) => (
        <div key={p} className="warn-box">
          {p}
        </div>
      ))}
    </>
  );
}

function Controls() {
  const live = useStudio(liveRun);
  const form = useStudio((s) => s.trainForm);
  const formErrors = useStudio((s) => s.formErrors);
  const ready = useStudio((s) => s.modelStatus === 'ready');
  const ds = useStudio((s) => s.datasets.find((d) => d.id === s.activeDatasetId));
  const adapters = useStudio((s) => s.adapters);
  const [name, setName] = useState('');
  const [init, setInit] = useState('');
  const active = live !== null;
  let invalid: string | null = null;
  const bad = Object.entries(formErrors);
  if (bad.length) invalid = `Fix ${bad.map(([k, v]) => `${k}: ${v}`).join('; ')}.`;
  else
    try {
      resolveTrainConfig({ ...form, valSplit: ds?.valSplit ?? 0 }, fieldLabel);
    } catch (e) {
      invalid = errorText(e);
    }
  const why = !ready
    ? 'Load a model first (Model tab).'
    : !ds
      ? 'Create or import a dataset first (Data tab).'
      : invalid;
  const start = () => {
    if (trainingNow()) return; // a second click of the same instant
    void startTraining({
      name: name.trim() || `${ds!.name} r${form.rank}`,
      initAdapterId: init || undefined,
    });
  };
  return (
    <div className="controls">
      <Field label="Run name">
        {(id) => (
          <input
            id={id}
            value={name}
            placeholder={ds ? `${ds.name} r${form.rank}` : 'run name'}
            onChange={(e) => setName(e.target.value)}
            disabled={active}
          />
        )}
      </Field>
      <Field
        label="Start from adapter"
        help="Continue training a saved adapter (its rank, alpha and targets are used)."
      >
        {(id, d) => (
          <select
            id={id}
            aria-describedby={d}
            value={init}
            onChange={(e) => setInit(e.target.value)}
            disabled={active}
          >
            <option value="">new adapter</option>
            {adapters.map((a) => (
              <option key={a.id} value={a.id}>
                {a.name}
              </option>
            ))}
          </select>
        )}
      </Field>
      {/* Start keeps its place while a run trains (disabled), so a double click never lands on Pause */}
      <div className="button-row">
        <button className="primary" disabled={!!why || active} onClick={start}>
          Start training
        </button>
        {active && live.status !== 'paused' && (
          <button onClick={pauseRun} disabled={live.status === 'starting'}>
            Pause
          </button>
        )}
        {active && live.status === 'paused' && (
          <button className="primary" onClick={continueRun}>
            Resume
          </button>
        )}
        {active && (
          <button className="danger" onClick={stopRun}>
            Stop
          </button>
        )}
      </div>
      {why && !active && <div className="muted small">{why}</div>}
    </div>
  );
}

/** A live line while a step runs (re-rendered every second): elapsed time and, early on, the warm-up's cause. */
function StepClock(props: { since: number; done: number; step: number }) {
  const backend = useStudio((s) => s.device?.backend);
  const [now, setNow] = useState(() => performance.now());
  useEffect(() => {
    const t = setInterval(() => setNow(performance.now()), 1000);
    return () => clearInterval(t);
  }, []);
  const note = stepNote(backend, props.done, props.step, Math.max(0, now - props.since) / 1000);
  return note ? (
    <div className="muted small" role="status" aria-label="Current step">
      {note}
    </div>
  ) : null;
}

function Progress() {
  const run = useStudio((s) => s.run);
  if (!run) return null;
  const last = run.metrics[run.metrics.length - 1];
  const step = last?.step ?? run.firstStep;
  const done = step - run.firstStep;
  const secs = (performance.now() - run.startedAt) / 1000;
  const eta = done > 0 && run.status === 'running' ? ((run.totalSteps - step) * secs) / done : NaN;
  const detail =
    `${run.status} · step ${step} / ${run.totalSteps || '?'}${Number.isFinite(eta) ? ` · ${duration(eta)} left` : ''}` +
    `${last ? ` · loss ${loss(last.loss)}` : ''}${run.val.length ? ` · val ${loss(run.val[run.val.length - 1].loss)}` : ''}` +
    `${run.lastCheckpoint ? ` · checkpoint at ${run.lastCheckpoint}` : ''}`;
  return (
    <div className="run-progress">
      <div className="inline">
        <strong>{run.name}</strong>
        <span className={`status-pill ${run.status}`}>{run.status}</span>
        {run.trainRows > 0 && (
          <span className="muted small">
            {run.trainRows} training rows, {run.valRows} validation
          </span>
        )}
      </div>
      <ProgressBar label="Training progress" value={step} max={run.totalSteps} detail={detail} />
      {run.status === 'running' && (
        <StepClock since={run.stepStartedAt ?? run.startedAt} done={done} step={step + 1} />
      )}
      {run.message && ['failed', 'interrupted', 'paused'].includes(run.status) && (
        <div className="error-box" role="alert">
          {run.message}
        </div>
      )}
      {run.adapterId && run.status !== 'running' && (
        <div className="muted small">The adapter was saved to the library (Adapters &amp; Export).</div>
      )}
    </div>
  );
}

export function TrainTab() {
  const run = useStudio((s) => s.run);
  const active = useStudio(liveRun) !== null;
  return (
    <div className="grid train-grid">
      <div className="stack">
        <Card title="Settings">
          <TrainForm disabled={active} />
        </Card>
      </div>
      <div className="stack">
        <Card title="Run">
          <Controls />
          <Estimate />
          <Progress />
        </Card>
        <Card title="Curves">
          {run ? (
            <TrainCharts run={run} />
          ) : (
            <div className="muted">Charts appear when a run starts, or pick one from the history.</div>
          )}
        </Card>
        <Card title="Run history">
          <RunHistory busy={active} />
        </Card>
      </div>
    </div>
  );
}
