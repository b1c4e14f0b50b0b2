// Adapter import in the worker: a PEFT folder or zip is checked against the loaded base model by the
// engine's reader (which refuses what we do not support, by name) before its two files enter the library.
import { unzipSync } from 'fflate';
import { UserError } from '../src/engine/errors';
import { readAdapter } from '../src/engine/io/peft';
import { memorySource } from '../src/engine/io/source';
import { saveAdapter, type AdapterRecord } from '../src/storage';
import { db, getModel } from './context';
import type { PickedFile } from './sources';

const NEEDED = ['adapter_config.json', 'adapter_model.safetensors'];
/** A zip bomb guard: adapters of the supported models are far below this. */
const MAX_UNZIPPED = 2 ** 31;

async function collect(files: PickedFile[]): Promise<Record<string, Uint8Array>> {
  const out: Record<string, Uint8Array> = {};
  const put = (path: string, bytes: Uint8Array) => {
    const base = path.split('/').pop()!;
    if (NEEDED.includes(base)) {
      if (out[base])
        throw new UserError(`more than one ${base} in the chosen files; pick one adapter folder`);
      out[base] = bytes;
    }
  };
  for (const f of files) {
    if (f.path.toLowerCase().endsWith('.zip')) {
      let total = 0;
      const entries = unzipSync(new Uint8Array(await f.file.arrayBuffer()), {
        filter: (e) => {
          total += e.originalSize;
          if (total > MAX_UNZIPPED)
            throw new UserError('the zip unpacks to more than 2 GiB; not an adapter', f.path);
          return NEEDED.includes(e.name.split('/').pop()!);
        },
      });
      for (const [name, bytes] of Object.entries(entries)) put(name, bytes);
    } else put(f.path, new Uint8Array(await f.file.arrayBuffer()));
  }
  return out;
}

export async function importAdapter(files: PickedFile[], name: string): Promise<AdapterRecord> {
  const m = getModel();
  const collected = await collect(files);
  for (const n of NEEDED) {
    if (!collected[n])
      throw new UserError(
        `no ${n} among the chosen files: a PEFT adapter folder has ${NEEDED.join(' and ')}`,
      );
  }
  const a = await readAdapter(memorySource(collected, name), m.model.config);
  return saveAdapter(
    await db(),
    {
      name,
      baseModel: a.meta.baseModel || m.label,
      rank: a.meta.rank,
      alpha: a.meta.alpha,
      targets: a.meta.targets,
      origin: 'imported',
    },
    collected,
  );
}
