// Model tab actions: load from the Hub (cached in IndexedDB), from a local folder, or the embedded model.
import type { ModelRequest, PickedFile } from '../../../workers/api';
import { useStudio } from '../../state/store';
import { cb, engine, errorText, isCancelled, newJobId } from '../engine';
import { refreshStorage } from './app';
import { refreshPreview } from './data';
import { busyReason } from './train';

const st = () => useStudio.getState();

export async function loadModel(req: ModelRequest, what: string) {
  // the run's weights would be pulled from under it ("input … is missing")
  const busy = busyReason(`${what} cannot be loaded`);
  if (busy) return st().notify('error', busy);
  const prev = st().modelJobId;
  if (prev) await engine().cancel(prev);
  const jobId = newJobId('model');
  st().startModelLoad(jobId, what);
  try {
    const facts = await engine().loadModel(
      req,
      cb((p) => {
        if (st().modelJobId === jobId) st().setModelProgress(p.file, p.loaded, p.total);
      }),
      jobId,
    );
    if (st().modelJobId !== jobId) return;
    st().finishModelLoad(facts);
    if (st().trainForm.maxLen > facts.context) st().setTrainForm({ maxLen: facts.context });
    if (facts.cache?.note) st().notify('info', facts.cache.note);
    void refreshStorage();
    void refreshPreview();
  } catch (e) {
    if (st().modelJobId !== jobId) return;
    // A folder or config refused up front leaves the model loaded before in place: keep showing it.
    const still = await engine()
      .currentModel()
      .catch(() => null);
    if (st().modelJobId !== jobId) return;
    // shown inline on the Model tab (no toast on top)
    st().finishModelLoad(still, isCancelled(e) ? null : errorText(e));
    if (still) void refreshPreview();
    if (!isCancelled(e)) console.error(e);
  }
}

export function loadFromHub(repo: string) {
  const { hubEndpoint, hubToken } = st().settings;
  return loadModel({ hub: { repo, endpoint: hubEndpoint, token: hubToken || undefined } }, repo);
}

export function loadLocal(files: PickedFile[], name: string) {
  return loadModel({ files, name }, name);
}

/** The embedded model (small, pretrained on WordNet): the studio's offline default. */
export function loadEmbedded() {
  return loadModel({ embedded: true }, 'the embedded model');
}

export async function cancelModelLoad() {
  const id = st().modelJobId;
  if (id) await engine().cancel(id);
}
