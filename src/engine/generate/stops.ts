// Which ids end a generation: every id of generation_config.eos_token_id (often a list), the config's and
// tokenizer's EOS, and the chat template's end-of-turn token (DESIGN §3).
import type { LoadedModel } from '../model/weights';
import type { TextTokenizer } from '../text/tokenizer';

/** End-of-turn markers of the common chat template families. */
const END_OF_TURN = ['<|im_end|>', '<|eot_id|>', '<|end|>', '<end_of_turn>', '<|endoftext|>', '</s>'];

export function stopIds(
  model: Pick<LoadedModel, 'config' | 'files'>,
  tok?: TextTokenizer,
  template?: string,
): number[] {
  const ids = new Set<number>(model.config.eos_token_id);
  const gen = model.files.generationConfig as { eos_token_id?: number | number[] } | undefined;
  const g = gen?.eos_token_id;
  for (const id of Array.isArray(g) ? g : g !== undefined ? [g] : []) if (Number.isInteger(id)) ids.add(id);
  if (tok?.eosId !== undefined) ids.add(tok.eosId);
  if (tok && template) {
    for (const t of END_OF_TURN) {
      const id = template.includes(t) ? tok.tokenToId(t) : undefined;
      if (id !== undefined) ids.add(id);
    }
  }
  return [...ids];
}

/**
 * Streams generated text and stops at a stop string: text that could still become a stop string is held
 * back, so the stream never shows part of one; the stop string itself is never emitted.
 */
export class TextStopper {
  private pending = '';
  stopped = false;

  constructor(private readonly stops: readonly string[]) {}

  /** Adds decoded text; returns what can be shown now. */
  push(text: string): string {
    if (this.stopped) return '';
    this.pending += text;
    for (const s of this.stops) {
      const at = s ? this.pending.indexOf(s) : -1;
      if (at >= 0) {
        this.stopped = true;
        const out = this.pending.slice(0, at);
        this.pending = '';
        return out;
      }
    }
    // keep the longest tail that is a prefix of some stop string
    let keep = 0;
    for (const s of this.stops) {
      for (let k = Math.min(s.length - 1, this.pending.length); k > keep; k--) {
        if (this.pending.endsWith(s.slice(0, k))) {
          keep = k;
          break;
        }
      }
    }
    const out = this.pending.slice(0, this.pending.length - keep);
    this.pending = this.pending.slice(this.pending.length - keep);
    return out;
  }

  /** The held-back text once generation ended without a stop string. */
  flush(): string {
    const out = this.stopped ? '' : this.pending;
    this.pending = '';
    return out;
  }
}
