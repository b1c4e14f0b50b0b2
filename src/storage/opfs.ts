// Model weights in the origin private file system (OPFS): one folder per cached Hub model, one file per
// weights file, written as it downloads (never one buffer per file) and read back by byte ranges. The
// IndexedDB model index says which files are complete; a file there but not in the index is a partial
// download, resumed from its size. Where OPFS is missing (old browsers), callers fall back to memory.
const ROOT = 'hub-models';

export const opfsAvailable = (): boolean =>
  typeof navigator !== 'undefined' && typeof navigator.storage?.getDirectory === 'function';

/** The folder of one cached model (`key` as in hubCacheKey), or undefined where OPFS is unavailable. */
export async function modelFilesDir(
  key: string,
  create: boolean,
): Promise<FileSystemDirectoryHandle | undefined> {
  if (!opfsAvailable()) return undefined;
  try {
    const root = await navigator.storage.getDirectory();
    const top = await root.getDirectoryHandle(ROOT, { create });
    return await top.getDirectoryHandle(encodeURIComponent(key), { create });
  } catch (e) {
    if ((e as Error)?.name === 'NotFoundError') return undefined;
    if (create) throw e;
    return undefined;
  }
}

/** One file's name in the model's folder (paths of shards may hold '/'). */
export const storedFileName = (path: string) => encodeURIComponent(path);

/** A stored file, or undefined when there is none. */
export async function storedFile(key: string, path: string): Promise<File | undefined> {
  const dir = await modelFilesDir(key, false);
  if (!dir) return undefined;
  try {
    return await (await dir.getFileHandle(storedFileName(path))).getFile();
  } catch {
    return undefined;
  }
}

/** Removes a model's stored files (no-op where there are none). */
export async function removeModelFiles(key: string): Promise<void> {
  if (!opfsAvailable()) return;
  try {
    const root = await navigator.storage.getDirectory();
    const top = await root.getDirectoryHandle(ROOT);
    await top.removeEntry(encodeURIComponent(key), { recursive: true });
  } catch {
    // nothing stored for this model
  }
}
