// Past runs from IndexedDB: status, steps, losses, date; show curves, resume from the last checkpoint, delete.
// An interrupted or paused run shows the step of its last checkpoint (what a resume keeps); a run that
// another tab owns shows as running there; deleting this tab's live run asks to stop it first. A run paused
// by a fault (a NaN/Inf step) offers its learning rate for the resume, so it can continue lower.
import { useState } from 'react';
import type { RunRecord } from '../../storage/db';
import { useStudio } from '../../state/store';
import { liveRun } from '../../state/train';
import { deleteRun, keptStep, resumeRun, showRun, stopAndDeleteRun } from '../actions/train';
import { Empty, TableHead } from '../common';
import { NumberInput } from '../NumberInput';
import { date, loss } from '../format';

export function RunHistory({ busy }: { busy: boolean }) {
  const runs = useStudio((s) => s.runs);
  const modelLabel = useStudio((s) => s.modelFacts?.label);
  const elsewhere = useStudio((s) => s.runsElsewhere);
  const liveId = useStudio((s) => liveRun(s)?.runId);
  const [confirm, setConfirm] = useState<string | null>(null);
  const [resumeLr, setResumeLr] = useState<Record<string, number>>({});
  const [lrInvalid, setLrInvalid] = useState<string | null>(null);
  if (runs.length === 0) return <Empty>No runs yet.</Empty>;
  // a run that did not end cleanly keeps what its last checkpoint holds: Resume continues from there
  // (one that ended before its first checkpoint keeps nothing: it starts again from step 0)
  const kept = (r: RunRecord) =>
    ['interrupted', 'paused', 'failed'].includes(r.status) ? keptStep(r) : r.step;
  const canResume = (r: RunRecord) =>
    !busy &&
    !elsewhere.includes(r.id) &&
    (r.checkpointId ? ['interrupted', 'paused', 'stopped', 'failed'] : ['interrupted']).includes(r.status) &&
    (kept(r) < r.totalSteps || !r.adapterId);
  return (
    <div className="table-wrap">
      <table className="runs-table" aria-label="Run history">
        <TableHead columns={['Run', 'Status', '#Step', '#Loss', '#Val loss', 'Dataset', 'Started']} actions />
        <tbody>
          {runs.map((r) => (
            <tr key={r.id}>
              <td>
                <div>{r.name}</div>
                <div className="muted small mono">{r.model}</div>
              </td>
              <td>
                <span className={`status-pill ${r.status}`} title={r.error}>
                  {r.status}
                </span>
                {elsewhere.includes(r.id) && <div className="muted small">in another tab</div>}
              </td>
              <td className="num">
                {kept(r)} / {r.totalSteps || '?'}
              </td>
              <td className="num">{loss(r.lastLoss)}</td>
              <td className="num">{loss(r.lastValLoss)}</td>
              <td>{r.datasetName}</td>
              <td className="small">{date(r.startedAt)}</td>
              <td className="actions">
                <button
                  className="small"
                  aria-label={`Show curves of ${r.name}`}
                  disabled={busy}
                  onClick={() => void showRun(r)}
                >
                  Show
                </button>
                {canResume(r) && r.status === 'paused' && r.error && (
                  <span className="small resume-lr">
                    <span aria-hidden>lr</span>
                    <NumberInput
                      id={`resume-lr-${r.id}`}
                      ariaLabel={`Peak LR when resuming ${r.name}`}
                      value={resumeLr[r.id] ?? Number(r.config.lr)}
                      rule={{ min: 0 }}
                      onCommit={(v) => setResumeLr((m) => ({ ...m, [r.id]: v }))}
                      onValidity={(e) => setLrInvalid(e ? r.id : null)}
                    />
                  </span>
                )}
                {canResume(r) && (
                  <button
                    className="small"
                    aria-label={r.checkpointId ? `Resume ${r.name}` : `Start ${r.name} again`}
                    disabled={modelLabel !== r.model || lrInvalid === r.id}
                    title={
                      modelLabel !== r.model
                        ? `load ${r.model} first`
                        : r.checkpointId
                          ? 'continue from the last checkpoint'
                          : 'no checkpoint was kept: train again from step 0 with the same settings'
                    }
                    onClick={() => void resumeRun(r, resumeLr[r.id])}
                  >
                    {r.checkpointId ? 'Resume' : 'Start again'}
                  </button>
                )}
                {confirm === r.id ? (
                  <>
                    {r.id === liveId && <span className="small">The run is training.</span>}
                    <button
                      className="small danger"
                      aria-label={
                        r.id === liveId ? `Stop and delete run ${r.name}` : `Confirm deleting ${r.name}`
                      }
                      onClick={() => {
                        setConfirm(null);
                        void (r.id === liveId ? stopAndDeleteRun(r) : deleteRun(r));
                      }}
                    >
                      {r.id === liveId ? 'Stop and delete' : 'Confirm'}
                    </button>
                    <button className="small ghost" onClick={() => setConfirm(null)}>
                      Cancel
                    </button>
                  </>
                ) : (
                  <button
                    className="small ghost"
                    aria-label={`Delete run ${r.name}`}
                    disabled={elsewhere.includes(r.id)}
                    title={
                      elsewhere.includes(r.id) ? 'running in another tab: stop it there first' : undefined
                    }
                    onClick={() => setConfirm(r.id)}
                  >
                    Delete
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
