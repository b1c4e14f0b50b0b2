// "Export for a GPU cluster": the active dataset with the Train tab's settings as a zip (fflate) of the
// engine's recipe bundle (data.jsonl, train_trl.py, axolotl.yaml, README.md), built by the worker.
import { strToU8, zipSync } from 'fflate';
import { useStudio } from '../../state/store';
import { download, report } from '../actions/app';
import { activeDataset, flushDatasets } from '../actions/data';
import { engine } from '../engine';

const st = () => useStudio.getState();
const safeName = (s: string) => s.replace(/[^\w.-]+/g, '_') || 'dataset';

export async function exportClusterRecipe() {
  const facts = st().modelFacts;
  if (st().modelStatus !== 'ready' || !facts)
    return st().notify('error', 'load the base model first: the recipe names it and uses its chat template');
  const ds = activeDataset();
  if (!ds) return st().notify('error', 'choose or create a dataset on the Data tab first');
  try {
    await flushDatasets();
    const files = await engine().exportRecipe({
      rows: ds.rows,
      datasetName: ds.name,
      config: { ...st().trainForm, valSplit: ds.valSplit },
      baseModel: facts.label,
    });
    const folder = `${safeName(ds.name)}-recipe`;
    const zip = zipSync(
      Object.fromEntries(Object.entries(files).map(([name, text]) => [`${folder}/${name}`, strToU8(text)])),
    );
    download(`${folder}.zip`, zip as Uint8Array<ArrayBuffer>, 'application/zip');
  } catch (e) {
    report(e, 'export failed');
  }
}
