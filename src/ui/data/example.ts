// The example dataset shipped with the app (public/data/, built from WordNet by tools/embedded/): chat pairs
// that teach the embedded model a dictionary-entry answer format, and prompts of the same kind on other
// words for comparing base and tuned replies. Loaded through the same parser as an imported file.
import { useStudio } from '../../state/store';
import { newDataset } from '../actions/data';
import { report } from '../actions/app';
import { engine } from '../engine';

const FILES = [
  // held-out first, so the training set ends up the active dataset
  { file: 'wordnet-cards-heldout.jsonl', name: 'WordNet cards: held-out words' },
  { file: 'wordnet-cards.jsonl', name: 'WordNet cards' },
] as const;

export async function loadExampleDataset() {
  const st = useStudio.getState();
  st.setImportReport(null);
  try {
    let summary = null;
    for (const { file, name } of FILES) {
      const res = await fetch(`${import.meta.env.BASE_URL}data/${file}`);
      if (!res.ok) throw new Error(`could not fetch the example dataset (${res.status})`);
      const parsed = await engine().importDataset(await res.text(), file);
      const rec = await newDataset(name, parsed.rows);
      if (!rec) return;
      summary = { fileName: file, added: parsed.rows.length, errors: parsed.errors, formats: parsed.formats };
    }
    useStudio.getState().setImportReport(summary);
  } catch (e) {
    report(e, 'could not load the example dataset');
  }
}
