// Files of a local folder from a directory picker (<input webkitdirectory>) or a drag-and-drop, each with
// its path inside the folder, for the worker's pickedSource.
import type { PickedFile } from '../../../workers/api';

export function fromInput(list: FileList | null): PickedFile[] {
  return Array.from(list ?? []).map((file) => ({ path: file.webkitRelativePath || file.name, file }));
}

function readEntries(dir: FileSystemDirectoryEntry): Promise<FileSystemEntry[]> {
  const reader = dir.createReader();
  const all: FileSystemEntry[] = [];
  return new Promise((resolve, reject) => {
    const more = () =>
      reader.readEntries((batch) => {
        if (batch.length === 0) return resolve(all);
        all.push(...batch);
        more();
      }, reject);
    more();
  });
}

async function walk(entry: FileSystemEntry, prefix: string, out: PickedFile[]): Promise<void> {
  if (entry.isFile) {
    const file = await new Promise<File>((res, rej) => (entry as FileSystemFileEntry).file(res, rej));
    out.push({ path: prefix + entry.name, file });
  } else if (entry.isDirectory) {
    for (const child of await readEntries(entry as FileSystemDirectoryEntry))
      await walk(child, `${prefix}${entry.name}/`, out);
  }
}

/** Dropped files and folders (folders walked recursively); the name is the first dropped item's. */
export async function fromDrop(dt: DataTransfer): Promise<{ files: PickedFile[]; name: string }> {
  const entries = Array.from(dt.items)
    .map((i) => i.webkitGetAsEntry?.())
    .filter((e): e is FileSystemEntry => !!e);
  const files: PickedFile[] = [];
  if (entries.length === 0) {
    for (const f of Array.from(dt.files)) files.push({ path: f.name, file: f });
    return { files, name: dt.files[0]?.name ?? 'dropped files' };
  }
  for (const e of entries) await walk(e, '', files);
  return { files, name: entries.length === 1 && entries[0].isDirectory ? entries[0].name : 'dropped files' };
}

export const folderName = (files: PickedFile[]) => files[0]?.path.split('/')[0] || 'local folder';
