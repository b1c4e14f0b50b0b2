// Model tab: a curated list, any Hub repo id, a local folder (picker or drag-and-drop) or the embedded tiny
// model; Hub endpoint and access token settings (kept in this browser); download progress; the facts card.
import { useState, type DragEvent } from 'react';
import { hubCacheKey } from '../../storage/modelCache';
import { useStudio } from '../../state/store';
import { saveSettings } from '../actions/app';
import { cancelModelLoad, loadEmbedded, loadFromHub, loadLocal } from '../actions/model';
import { Card, Field, ProgressBar } from '../common';
import { bytes, duration } from '../format';
import { FactsCard } from './FactsCard';
import { folderName, fromDrop, fromInput } from './pickFiles';

export const CURATED = [
  { repo: 'HuggingFaceTB/SmolLM2-135M-Instruct', size: '135M', note: 'fastest; good first run' },
  { repo: 'HuggingFaceTB/SmolLM2-360M-Instruct', size: '360M', note: 'small and capable' },
  { repo: 'Qwen/Qwen2.5-0.5B-Instruct', size: '494M', note: 'multilingual, large vocabulary' },
  { repo: 'Qwen/Qwen3-0.6B', size: '596M', note: 'thinking disabled by default' },
  { repo: 'meta-llama/Llama-3.2-1B-Instruct', size: '1.24B', note: 'gated: needs an access token' },
];

function Progress() {
  const p = useStudio((s) => s.modelProgress);
  const what = useStudio((s) => s.modelLoading);
  if (!p) return null;
  if (p.done) {
    return (
      <div className="loadbar">
        <div className="loadbar-title">Loaded {p.done.what}</div>
        <ProgressBar
          label="Model download"
          value={1}
          max={1}
          detail={`${p.total ? bytes(p.total) : 'all files'} in ${duration(p.done.seconds)}`}
        />
      </div>
    );
  }
  const left = p.rate > 0 && p.total > p.loaded ? (p.total - p.loaded) / p.rate : NaN;
  const detail =
    `${p.file || 'starting'} · ${bytes(p.loaded)}${p.total ? ` of ${bytes(p.total)}` : ''}` +
    `${p.rate ? ` · ${bytes(p.rate)}/s` : ''}${Number.isFinite(left) ? ` · ${duration(left)} left` : ''}`;
  return (
    <div className="loadbar">
      <div className="loadbar-title">Loading {what}</div>
      <ProgressBar label="Model download" value={p.loaded} max={p.total} detail={detail} />
      <button onClick={() => void cancelModelLoad()}>Cancel loading</button>
    </div>
  );
}

function HubSettings() {
  const settings = useStudio((s) => s.settings);
  const [showToken, setShowToken] = useState(false);
  return (
    <Card title="Hub settings">
      <div className="form-grid roomy">
        <Field label="Hub endpoint" help="https://huggingface.co or a mirror with the same URL layout.">
          {(id, d) => (
            <input
              id={id}
              aria-describedby={d}
              type="url"
              value={settings.hubEndpoint}
              spellCheck={false}
              onChange={(e) => void saveSettings({ hubEndpoint: e.target.value.trim() })}
            />
          )}
        </Field>
        <Field
          label="Access token"
          help="For gated or private repos. Stored only in this browser; sent only to the endpoint above."
        >
          {(id, d) => (
            <div className="inline nowrap">
              <input
                id={id}
                aria-describedby={d}
                className="grow"
                type={showToken ? 'text' : 'password'}
                value={settings.hubToken}
                autoComplete="off"
                spellCheck={false}
                placeholder="hf_…"
                onChange={(e) => void saveSettings({ hubToken: e.target.value.trim() })}
              />
              <button
                className="ghost small"
                aria-label={showToken ? 'Hide token' : 'Show token'}
                onClick={() => setShowToken(!showToken)}
              >
                {showToken ? 'Hide' : 'Show'}
              </button>
            </div>
          )}
        </Field>
      </div>
    </Card>
  );
}

export function ModelTab() {
  const status = useStudio((s) => s.modelStatus);
  const error = useStudio((s) => s.modelError);
  const loaded = useStudio((s) => (s.modelStatus === 'ready' ? s.modelFacts?.label : undefined));
  const endpoint = useStudio((s) => s.settings.hubEndpoint);
  const cached = useStudio((s) => s.cachedModels);
  const [repo, setRepo] = useState('');
  const [dragging, setDragging] = useState(false);
  const busy = status === 'loading';
  const isCached = (r: string) => cached.some((c) => c.complete && c.source === hubCacheKey(endpoint, r));

  const onDrop = async (e: DragEvent) => {
    e.preventDefault();
    setDragging(false);
    const { files, name } = await fromDrop(e.dataTransfer);
    if (files.length) void loadLocal(files, name);
  };

  return (
    <div className="grid two">
      <div className="stack">
        <Card title="Choose a model">
          <ul className="model-list" aria-label="Suggested models">
            {CURATED.map((m) => (
              <li key={m.repo}>
                <div className="model-name">
                  <span className="mono">{m.repo}</span>
                  <span className="muted">
                    {m.size} · {m.note}
                  </span>
                </div>
                {isCached(m.repo) && <span className="badge subtle">cached</span>}
                <button
                  disabled={busy}
                  aria-label={`Load ${m.repo}`}
                  onClick={() => void loadFromHub(m.repo)}
                >
                  Load
                </button>
              </li>
            ))}
          </ul>
          <form
            className="inline"
            onSubmit={(e) => {
              e.preventDefault();
              if (repo.trim()) void loadFromHub(repo.trim());
            }}
          >
            <label className="sr-only" htmlFor="repo-id">
              Hub repo id
            </label>
            <input
              id="repo-id"
              placeholder="any Hub repo id, e.g. owner/name"
              value={repo}
              spellCheck={false}
              onChange={(e) => setRepo(e.target.value)}
            />
            <button type="submit" disabled={busy || !repo.trim()}>
              Load repo
            </button>
          </form>
          <div
            className={`dropzone${dragging ? ' over' : ''}`}
            onDragOver={(e) => {
              e.preventDefault();
              setDragging(true);
            }}
            onDragLeave={() => setDragging(false)}
            onDrop={(e) => void onDrop(e)}
            aria-label="Drop a model folder here"
          >
            <span>Drop a model folder here (config.json, *.safetensors, tokenizer files), or</span>
            <label className="button">
              Choose folder…
              <input
                type="file"
                className="sr-only"
                aria-label="Choose a local model folder"
                disabled={busy}
                ref={(el) => el?.setAttribute('webkitdirectory', '')}
                onChange={(e) => {
                  const files = fromInput(e.target.files);
                  if (files.length) void loadLocal(files, folderName(files));
                  e.target.value = '';
                }}
              />
            </label>
          </div>
          <div className="inline">
            <button disabled={busy} onClick={() => void loadEmbedded()}>
              Load the embedded tiny model
            </button>
            <span className="muted">
              0.66M parameters pretrained on WordNet, shipped with the app: try instruction tuning offline
              with the example dataset (Data tab)
            </span>
          </div>
          <Progress />
          {error && status !== 'loading' && (
            <div className="error-box" role="alert">
              {error}
              {loaded && <div className="small">{loaded} is still loaded.</div>}
            </div>
          )}
        </Card>
        <HubSettings />
      </div>
      <FactsCard />
    </div>
  );
}
