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
