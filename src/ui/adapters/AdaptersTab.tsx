// Adapters & Export tab: the adapter library (base model, rank, targets, dataset, steps, final losses,
// date), rename, delete, import a PEFT zip or folder, export a PEFT zip; the dataset and Train settings
// as a TRL / Axolotl recipe for a GPU machine; a backup of the whole workspace; and browser storage.
import { useState, type DragEvent } from 'react';
import type { AdapterRecord } from '../../storage/db';
import { useStudio } from '../../state/store';
import { deleteAdapter, exportOther, exportPeftZip, importAdapter, renameAdapter } from '../actions/library';
import { Card, Empty, TableHead } from '../common';
import { bytes, date, loss } from '../format';
import { fromDrop, fromInput, folderName } from '../model/pickFiles';
import { exportClusterRecipe } from './clusterExport';
import type { PickedFile } from '../../../workers/api';
import { BackupCard } from './BackupCard';
import { StoragePanel } from './StoragePanel';

function AdapterRow({ a }: { a: AdapterRecord }) {
  const [name, setName] = useState(a.name);
  const [confirm, setConfirm] = useState(false);
  // GGUF and merged exports are built from the base weights, which only a loaded model provides.
  const ready = useStudio((s) => s.modelStatus === 'ready');
  const needsBase = ready ? undefined : `Load its base model first: ${a.baseModel}`;
  return (
    <tr>
      <td>
        <input
          aria-label={`Name of adapter ${a.name}`}
          className="name-input"
          value={name}
          onChange={(e) => setName(e.target.value)}
          onBlur={() => void renameAdapter(a, name)}
          onKeyDown={(e) => e.key === 'Enter' && (e.target as HTMLInputElement).blur()}
        />
        <div className="muted small">
          {a.origin === 'imported' ? 'imported' : `trained on ${a.datasetName ?? '?'}`}
        </div>
      </td>
      <td className="mono small">{a.baseModel}</td>
      <td className="num">
        {a.rank} / {a.alpha}
      </td>
      <td className="small">{a.targets.join(', ')}</td>
      <td className="num">{a.steps ?? '–'}</td>
      <td className="num">{loss(a.finalLoss)}</td>
      <td className="num">{loss(a.finalValLoss)}</td>
      <td className="small">{date(a.createdAt)}</td>
      <td className="num small">{bytes(a.size)}</td>
      <td className="actions">
        <button
          className="small"
          aria-label={`Export ${a.name} as PEFT zip`}
          onClick={() => void exportPeftZip(a)}
        >
          PEFT zip
        </button>
        <button
          className="small"
          aria-label={`Export ${a.name} as GGUF adapter`}
          disabled={!ready}
          title={needsBase}
          onClick={() => void exportOther(a, 'gguf-adapter')}
        >
          GGUF
        </button>
        <button
          className="small"
          aria-label={`Export ${a.name} merged into the base model`}
          disabled={!ready}
          title={needsBase}
          onClick={() => void exportOther(a, 'merged-safetensors')}
        >
          Merged
        </button>
        {confirm ? (
          <button className="small danger" onClick={() => void deleteAdapter(a)}>
            Confirm
          </button>
        ) : (
          <button
            className="small ghost"
            aria-label={`Delete adapter ${a.name}`}
            onClick={() => setConfirm(true)}
          >
            Delete
          </button>
        )}
      </td>
    </tr>
  );
}

function Import() {
  const ready = useStudio((s) => s.modelStatus === 'ready');
  const [over, setOver] = useState(false);
  const run = (files: PickedFile[], name: string) => {
    if (files.length) void importAdapter(files, name.replace(/\.zip$/i, ''));
  };
  const onDrop = async (e: DragEvent) => {
    e.preventDefault();
    setOver(false);
    const { files, name } = await fromDrop(e.dataTransfer);
    run(files, name);
  };
  return (
    <div
      className={`dropzone${over ? ' over' : ''}`}
      aria-label="Drop a PEFT adapter folder or zip here"
      onDragOver={(e) => {
        e.preventDefault();
        setOver(true);
      }}
      onDragLeave={() => setOver(false)}
      onDrop={(e) => void onDrop(e)}
    >
      <span>
        {ready
          ? 'Drop a PEFT adapter (folder or .zip with adapter_config.json and adapter_model.safetensors), or'
          : 'Load the model the adapter was trained on first: an imported adapter is checked against it.'}
      </span>
      <label className={`button${ready ? '' : ' disabled'}`}>
        Import zip…
        <input
          type="file"
          accept=".zip,application/zip"
          className="sr-only"
          aria-label="Import PEFT adapter zip"
          disabled={!ready}
          onChange={(e) => {
            const f = fromInput(e.target.files);
            run(f, f[0]?.path ?? 'adapter');
            e.target.value = '';
          }}
        />
      </label>
      <label className={`button${ready ? '' : ' disabled'}`}>
        Import folder…
        <input
          type="file"
          className="sr-only"
          aria-label="Import PEFT adapter folder"
          disabled={!ready}
          ref={(el) => el?.setAttribute('webkitdirectory', '')}
          onChange={(e) => {
            const f = fromInput(e.target.files);
            run(f, folderName(f));
            e.target.value = '';
          }}
        />
      </label>
    </div>
  );
}

export function AdaptersTab() {
  const adapters = useStudio((s) => s.adapters);
  const model = useStudio((s) => s.modelFacts);
  return (
    <div className="stack">
      <Card title="Adapter library">
        {adapters.length === 0 ? (
          <Empty>No adapters yet: train one on the Train tab, or import a PEFT adapter below.</Empty>
        ) : (
          <div className="table-wrap">
            <table className="lib-table" aria-label="Adapter library">
              <TableHead
                columns={[
                  'Name',
                  'Base model',
                  '#Rank / α',
                  'Targets',
                  '#Steps',
                  '#Loss',
                  '#Val loss',
                  'Date',
                  '#Size',
                ]}
                actions
              />
              <tbody>
                {adapters.map((a) => (
                  <AdapterRow key={a.id} a={a} />
                ))}
              </tbody>
            </table>
          </div>
        )}
        <Import />
      </Card>
      <Card title="Export the base model">
        <div className="inline">
          <button disabled={!model} onClick={() => void exportOther(null, 'gguf-merged')}>
            Base model as GGUF
          </button>
          <span className="muted small">
            for llama.cpp or Ollama; adapters export per row above (PEFT zip loads in transformers/PEFT).
          </span>
        </div>
      </Card>
      <Card title="Outgrowing the browser">
        <div className="inline">
          <button disabled={!model} onClick={() => void exportClusterRecipe()}>
            Export for a GPU cluster
          </button>
          <span className="muted small">
            a zip with the current dataset and Train settings: a TRL script, an Axolotl config and a README.
          </span>
        </div>
      </Card>
      <BackupCard />
      <StoragePanel />
    </div>
  );
}
