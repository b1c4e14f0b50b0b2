// Past runs from IndexedDB: status, steps, losses, date; show curves, resume from the last checkpoint, delete.
import { useState } from 'react';
import type { RunRecord } from '../../storage/db';
import { useStudio } from '../../state/store';
import { deleteRun, resumeRun, showRun } from '../actions/train';
import { Empty, TableHead } from '../common';
import { date, loss } from '../format';

export function RunHistory({ busy }: { busy: boolean }) {
  const runs = useStudio((s) => s.runs);
  const modelLabel = useStudio((s) => s.modelFacts?.label);
  const [confirm, setConfirm] = useState<string | null>(null);
  if (runs.length === 0) return <Empty>No runs yet.</Empty>;
  const canResume = (r: RunRecord) =>
    !busy &&
    !!r.checkpointId &&
    ['interrupted', 'paused', 'stopped', 'failed'].includes(r.status) &&
    r.step < r.totalSteps;
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
              </td>
              <td className="num">
                {r.step} / {r.totalSteps || '?'}
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
                {canResume(r) && (
                  <button
                    className="small"
                    aria-label={`Resume ${r.name}`}
                    disabled={modelLabel !== r.model}
                    title={
                      modelLabel !== r.model ? `load ${r.model} first` : 'continue from the last checkpoint'
                    }
                    onClick={() => void resumeRun(r)}
                  >
                    Resume
                  </button>
                )}
                {confirm === r.id ? (
                  <button
                    className="small danger"
                    onClick={() => {
                      setConfirm(null);
                      void deleteRun(r);
                    }}
                  >
                    Confirm
                  </button>
                ) : (
                  <button
                    className="small ghost"
                    aria-label={`Delete run ${r.name}`}
                    disabled={busy && r.status === 'running'}
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
