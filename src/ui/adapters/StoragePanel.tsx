// Browser storage: usage against quota, persistence, and cached models that can be removed to free space.
import { useStudio } from '../../state/store';
import { askPersistence, deleteCachedModel } from '../actions/library';
import { refreshStorage } from '../actions/app';
import { Card, ProgressBar } from '../common';
import { bytes } from '../format';

export function StoragePanel() {
  const s = useStudio((x) => x.storage);
  const cached = useStudio((x) => x.cachedModels);
  return (
    <Card
      title="Storage"
      actions={
        <button className="ghost small" onClick={() => void refreshStorage()}>
          Refresh
        </button>
      }
    >
      {s?.available ? (
        <>
          <ProgressBar
            label="Browser storage used"
            value={s.usage}
            max={s.quota}
            detail={`${bytes(s.usage)} used of ${bytes(s.quota)} available to this site`}
          />
          <div className="inline">
            <span>
              {s.persisted
                ? 'Persistent storage: granted (the browser will not evict this data).'
                : 'Persistent storage: not granted (the browser may evict data under pressure).'}
            </span>
            {!s.persisted && (
              <button className="small" onClick={() => void askPersistence()}>
                Ask for persistent storage
              </button>
            )}
          </div>
        </>
      ) : (
        <div className="muted">This browser does not report storage usage.</div>
      )}
      <h3>Cached models</h3>
      {cached.length === 0 ? (
        <div className="muted small">
          None. Models downloaded from the Hub are kept here so a reload does not download them again.
        </div>
      ) : (
        <ul className="plain-list">
          {cached.map((m) => {
            const [endpoint, repo, rev] = m.source.split('|');
            return (
              <li key={m.source} className="inline">
                <span className="mono">{repo}</span>
                <span className="muted small">
                  {rev} · {endpoint} · {m.files} files · {bytes(m.bytes)}
                  {m.complete ? '' : ' · partial'}
                </span>
                <span className="spacer" />
                <button
                  className="small ghost"
                  aria-label={`Remove cached ${repo}`}
                  onClick={() => void deleteCachedModel(m.source)}
                >
                  Remove
                </button>
              </li>
            );
          })}
        </ul>
      )}
    </Card>
  );
}
