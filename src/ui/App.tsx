// The studio shell: header with the device and storage status, the tabs (accessible names: Model,
// Data, Train, Chat, Adapters & Export, Evaluate) and the notice area. The selected tab is kept in the URL hash.
import { useEffect, useState } from 'react';
import { useStudio } from '../state/store';
import { Notices } from './common';
import { bytes } from './format';
import { Tabs, type TabDef } from './Tabs';
import { ModelTab } from './model/ModelTab';
import { DataTab } from './data/DataTab';
import { TrainTab } from './train/TrainTab';
import { ChatTab } from './chat/ChatTab';
import { AdaptersTab } from './adapters/AdaptersTab';
import { EvaluateTab } from './evaluate/EvaluateTab';

const TABS: TabDef[] = [
  { id: 'model', label: 'Model', render: () => <ModelTab /> },
  { id: 'data', label: 'Data', render: () => <DataTab /> },
  { id: 'train', label: 'Train', render: () => <TrainTab /> },
  { id: 'chat', label: 'Chat', render: () => <ChatTab /> },
  { id: 'adapters', label: 'Adapters & Export', render: () => <AdaptersTab /> },
  { id: 'evaluate', label: 'Evaluate', render: () => <EvaluateTab /> },
];

const fromHash = () => {
  const h = location.hash.slice(1);
  return TABS.some((t) => t.id === h) ? h : 'model';
};

function DeviceBadge() {
  const device = useStudio((s) => s.device);
  const error = useStudio((s) => s.deviceError);
  if (error)
    return (
      <span className="badge bad" data-testid="device" title={error}>
        Engine unavailable: {error}
      </span>
    );
  if (!device)
    return (
      <span className="badge" data-testid="device">
        Starting engine…
      </span>
    );
  const title = [
    device.description,
    device.fallbackReason && `WebGPU not used: ${device.fallbackReason}`,
    device.maxStorageBufferBindingSize && `max binding ${bytes(device.maxStorageBufferBindingSize)}`,
    device.crossOriginIsolated ? 'cross-origin isolated' : 'not cross-origin isolated (1 thread)',
  ]
    .filter(Boolean)
    .join(' · ');
  return (
    <span
      className={`badge ${device.backend === 'webgpu' && !device.software ? 'good' : 'warn'}`}
      data-testid="device"
      data-backend={device.backend}
      title={title}
    >
      {device.summary}
    </span>
  );
}

/** A visible line when the engine runs on WebAssembly although WebGPU was wanted (no API or no adapter). */
function FallbackNotice() {
  const device = useStudio((s) => s.device);
  const prefer = useStudio((s) => s.settings.backend);
  if (!device || device.backend === 'webgpu' || prefer === 'wasm') return null;
  return (
    <div className="banner warn" role="status" aria-label="Backend notice">
      <strong>No WebGPU here</strong> ({device.fallbackReason || 'not available'}): training and chat run on
      the CPU with WebAssembly, which works but is much slower. A recent Chrome or Edge on a machine with a
      GPU runs them on the GPU.
    </div>
  );
}

function StorageBadge() {
  const s = useStudio((x) => x.storage);
  if (!s?.available) return null;
  return (
    <span
      className="badge subtle"
      title={s.persisted ? 'persistent storage granted' : 'storage may be evicted by the browser'}
    >
      Storage {bytes(s.usage)} / {bytes(s.quota)}
    </span>
  );
}

export function App() {
  const [tab, setTab] = useState(fromHash);
  useEffect(() => {
    const on = () => setTab(fromHash());
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  const select = (id: string) => {
    setTab(id);
    history.replaceState(null, '', `#${id}`);
  };
  return (
    <div className="app">
      <header className="topbar">
        <div className="brand">
          <img src={`${import.meta.env.BASE_URL}favicon.svg`} alt="" width={22} height={22} />
          <h1>LoRA Studio</h1>
          <span className="tagline">
            instruction-tune small language models on your own GPU; nothing leaves this machine
          </span>
        </div>
        <div className="status">
          <StorageBadge />
          <DeviceBadge />
        </div>
      </header>
      <FallbackNotice />
      <Tabs tabs={TABS} selected={tab} onSelect={select} />
      <Notices />
    </div>
  );
}
