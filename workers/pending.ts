// Worker methods whose engine part is not in this build yet. Each names what is missing, so the studio's
// controls stay wired to the real call and report a clear error instead of showing invented results.
import { UserError } from '../src/engine/errors';
import type { ExportFormat, GenerateRequest, GenerateResult } from './api';
import type { Job } from './jobs';

export async function chatNotAvailable(_req: GenerateRequest, _onText: (d: string) => void, _job: Job): Promise<GenerateResult> {
  throw new UserError('chat is not available yet: this build has no text generator (src/engine/generate)');
}

export async function adaptersNotAvailable(_adapterId: string | null, format: ExportFormat): Promise<Record<string, Uint8Array>> {
  throw new UserError(`export as ${format} is not available yet: this build has no merged/GGUF writer (src/engine/export)`);
}
