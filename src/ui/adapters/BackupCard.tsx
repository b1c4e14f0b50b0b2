// Workspace backup on the Adapters & Export tab: the whole workspace (datasets, runs with metrics and
// checkpoints, adapters, settings; not the model cache) as one file, and back from it merged by id.
import { exportBackup, importBackup } from '../actions/backup';
import { Card } from '../common';

export function BackupCard() {
  return (
    <Card title="Workspace backup">
      <div className="inline">
        <button onClick={() => void exportBackup()}>Export workspace backup</button>
        <label className="button">
          Import workspace backup…
          <input
            type="file"
            accept=".zip,application/zip"
            aria-label="Import workspace backup"
            className="sr-only"
            onChange={(e) => {
              const f = e.target.files?.[0];
              e.target.value = '';
              if (f) void importBackup(f);
            }}
          />
        </label>
      </div>
      <div className="muted small">
        Browsers may clear site data under storage pressure. A backup holds your datasets, runs with their
        curves and last checkpoints, adapters and settings (not cached models, not the Hub token); importing
        one adds what is missing here and keeps the newer copy of what is in both.
      </div>
    </Card>
  );
}
