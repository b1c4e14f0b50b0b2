// Output files written so that a failure never leaves a half-written result: each file goes to a
// temporary name in the target folder and is renamed into place (rename is atomic on one file system).
import {
  existsSync,
  mkdirSync,
  renameSync,
  statSync,
  writeFileSync,
  accessSync,
  constants,
  rmSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { UserError } from '../engine/errors';

/** Checks that `dir` can be created or written, before any long work starts. */
export function checkWritableDir(dir: string): void {
  if (existsSync(dir)) {
    if (!statSync(dir).isDirectory()) throw new UserError(`--out ${dir} exists and is not a folder`);
    try {
      accessSync(dir, constants.W_OK);
    } catch {
      throw new UserError(`cannot write to ${dir} (permission denied)`);
    }
    return;
  }
  let parent = dirname(dir);
  while (!existsSync(parent)) parent = dirname(parent);
  try {
    accessSync(parent, constants.W_OK);
  } catch {
    throw new UserError(`cannot create ${dir}: ${parent} is not writable`);
  }
}

export function writeFilesAtomic(dir: string, files: Record<string, Uint8Array | string>): void {
  mkdirSync(dir, { recursive: true });
  const tmp: [string, string][] = [];
  try {
    for (const [name, data] of Object.entries(files)) {
      const final = join(dir, name);
      mkdirSync(dirname(final), { recursive: true });
      const t = `${final}.tmp-${process.pid}`;
      writeFileSync(t, data);
      tmp.push([t, final]);
    }
    for (const [t, final] of tmp) renameSync(t, final);
  } catch (e) {
    for (const [t] of tmp) rmSync(t, { force: true });
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOSPC') throw new UserError(`disk full while writing to ${dir}`);
    if (code === 'EACCES' || code === 'EROFS') throw new UserError(`cannot write to ${dir} (${code})`);
    throw e;
  }
}
