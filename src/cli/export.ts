// `export`: an adapter (or a base model) in the format another tool needs. Nothing is written unless the
// whole result could be made.
import { existsSync } from 'node:fs';
import { UserError } from '../engine/errors';
import { readAdapter, writeAdapter } from '../engine/io/peft';
import { dirSource } from '../engine/io/source_node';
import { openModel } from './context';
import { checkWritableDir, writeFilesAtomic } from './files';

export const EXPORT_FORMATS = ['peft', 'merged', 'gguf-adapter', 'gguf-merged'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export interface ExportArgs {
  model: string;
  adapter?: string;
  format: ExportFormat;
  out: string;
  quiet: boolean;
}

export async function exportCmd(a: ExportArgs): Promise<void> {
  if (!(EXPORT_FORMATS as readonly string[]).includes(a.format)) {
    throw new UserError(`unknown --format ${a.format}; use one of ${EXPORT_FORMATS.join(', ')}`);
  }
  if ((a.format === 'peft' || a.format === 'gguf-adapter') && !a.adapter) {
    throw new UserError(`--format ${a.format} needs --adapter DIR`);
  }
  if (a.adapter && !existsSync(a.adapter)) throw new UserError(`--adapter ${a.adapter}: no such folder`);
  checkWritableDir(a.out);
  const model = await openModel(a.model, a.quiet);
  const adapter = a.adapter ? await readAdapter(dirSource(a.adapter), model.config) : undefined;
  switch (a.format) {
    case 'peft':
      writeFilesAtomic(a.out, writeAdapter(model.config, adapter!));
      return;
    default:
      throw new UserError(`--format ${a.format} is not available in this version`);
  }
}
