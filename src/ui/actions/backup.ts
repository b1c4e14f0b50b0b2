// Workspace backup actions: export everything the user made as one zip, and merge a backup back in (by id),
// then reload what the page shows from storage.
import * as storage from '../../storage';
import { useStudio } from '../../state/store';
import { db, download, refreshRuns, refreshStorage, report } from './app';
import { busyReason } from './train';

const st = () => useStudio.getState();

export async function exportBackup() {
  try {
    const bytes = await storage.exportWorkspace(await db());
    const day = new Date().toISOString().slice(0, 10);
    download(`lora-studio-backup-${day}.zip`, bytes as Uint8Array<ArrayBuffer>, 'application/zip');
  } catch (e) {
    report(e, 'backup not written');
  }
}

const said = (what: string, c: storage.MergeCount) =>
  `${c.added} ${what} added${c.updated ? `, ${c.updated} updated` : ''}${c.unchanged ? `, ${c.unchanged} already here` : ''}`;

export async function importBackup(file: File) {
  const busy = busyReason('a backup cannot be imported');
  if (busy) return st().notify('error', busy);
  try {
    const d = await db();
    const sum = await storage.importWorkspace(d, new Uint8Array(await file.arrayBuffer()), file.name);
    st().setDatasets(await storage.listDatasets(d));
    const settings = await storage.loadSettings(d);
    st().setSettings({ hubEndpoint: settings.hubEndpoint, backend: settings.backend });
    await Promise.all([refreshRuns(), refreshStorage()]);
    st().notify(
      'info',
      `backup ${file.name} imported: ${said('datasets', sum.datasets)}; ${said('runs', sum.runs)}; ` +
        `${said('adapters', sum.adapters)}`,
    );
  } catch (e) {
    report(e, `backup ${file.name} not imported`);
  }
}
