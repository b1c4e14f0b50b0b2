// Writes a tiny model's files (from makeTinyModel) into a folder. Node-only: it uses node:fs.

import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/** Creates `dir` (and subfolders named in the file paths) and writes every file, replacing old ones. */
export async function writeTinyModel(dir: string, files: Record<string, Uint8Array | string>): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const [path, data] of Object.entries(files)) {
    const full = join(dir, path);
    await mkdir(dirname(full), { recursive: true });
    await writeFile(full, data);
  }
}
