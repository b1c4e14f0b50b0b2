// Text tokenizer over @huggingface/tokenizers (tokenizer.json + tokenizer_config.json), with the special
// token ids the trainer and generator need, and a streaming decoder that never emits half a UTF-8
// character (byte-level BPE and byte-fallback pieces can split one across tokens).

import { Tokenizer } from '@huggingface/tokenizers';
import { UserError } from '../errors';

export interface TextTokenizer {
  /** addSpecialTokens (default true) applies the post-processor, e.g. a BOS for Llama-style tokenizers. */
  encode(text: string, opts?: { addSpecialTokens?: boolean }): number[];
  /** skipSpecialTokens defaults to false. */
  decode(ids: number[], opts?: { skipSpecialTokens?: boolean }): string;
  /** Largest token id + 1, added tokens included (may be below the model's embedding rows). */
  vocabSize: number;
  tokenToId(t: string): number | undefined;
  idToToken(id: number): string | undefined;
  bosId?: number;
  eosId?: number;
  padId?: number;
}

function parseJson(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new UserError(`not valid JSON (${(e as Error).message})`, file);
  }
}

/** tokenizer_config.json names special tokens as a string or as an AddedToken object {content, …}. */
function tokenName(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'object' && v !== null && typeof (v as { content?: unknown }).content === 'string')
    return (v as { content: string }).content;
  return undefined;
}

export function loadTokenizer(tokenizerJson: string | object, tokenizerConfig?: unknown): TextTokenizer {
  const json = typeof tokenizerJson === 'string' ? parseJson(tokenizerJson, 'tokenizer.json') : tokenizerJson;
  let config =
    typeof tokenizerConfig === 'string'
      ? parseJson(tokenizerConfig, 'tokenizer_config.json')
      : tokenizerConfig;
  if (typeof config !== 'object' || config === null) config = {};
  if (typeof json !== 'object' || json === null || !('model' in json))
    throw new UserError('not a tokenizer file (no "model" field)', 'tokenizer.json');
  let tok: Tokenizer;
  try {
    tok = new Tokenizer(json, config as object);
  } catch (e) {
    throw new UserError(`could not load the tokenizer: ${(e as Error).message}`, 'tokenizer.json');
  }
  let vocabSize = 0;
  for (const id of tok.get_vocab(true).values()) vocabSize = Math.max(vocabSize, id + 1);
  const cfg = config as Record<string, unknown>;
  const special = (key: string) => {
    const name = tokenName(cfg[key]);
    return name === undefined ? undefined : tok.token_to_id(name);
  };
  return {
    encode: (text, opts) => tok.encode(text, { add_special_tokens: opts?.addSpecialTokens ?? true }).ids,
    // The library rejects an empty list; an empty list decodes to ''.
    decode: (ids, opts) =>
      ids.length === 0 ? '' : tok.decode(ids, { skip_special_tokens: opts?.skipSpecialTokens ?? false }),
    vocabSize,
    tokenToId: (t) => tok.token_to_id(t),
    idToToken: (id) => tok.id_to_token(id),
    bosId: special('bos_token'),
    eosId: special('eos_token'),
    padId: special('pad_token'),
  };
}

export interface DecodeStream {
  /** Adds one generated id; returns the text it completes ('' while a character is still incomplete). */
  push(id: number): string;
  /** Whatever is held back (an incomplete character decodes to U+FFFD). */
  flush(): string;
}

/**
 * Incremental decoding as text-generation-inference does it: decode a short window twice, without and with
 * the newest ids, and emit the difference. The window keeps one token of context so decoders that strip a
 * leading space (SentencePiece) treat the new piece as mid-text. A trailing U+FFFD means the last id ended
 * inside a UTF-8 character: hold it back until the character is complete.
 */
export function createDecodeStream(
  tok: Pick<TextTokenizer, 'decode'>,
  opts: { skipSpecialTokens?: boolean; contextIds?: readonly number[] } = {},
): DecodeStream {
  const skipSpecialTokens = opts.skipSpecialTokens ?? true;
  const ids: number[] = opts.contextIds ? opts.contextIds.slice(-4) : [];
  let prefixOffset = 0;
  let readOffset = ids.length;
  const decode = (from: number, to?: number) => tok.decode(ids.slice(from, to), { skipSpecialTokens });
  return {
    push(id) {
      ids.push(id);
      const prefix = decode(prefixOffset, readOffset);
      const text = decode(prefixOffset);
      if (text.length <= prefix.length || text.endsWith('\uFFFD')) return '';
      prefixOffset = readOffset;
      readOffset = ids.length;
      // Keep the buffer short: only the window [prefixOffset, …) is ever decoded again.
      if (prefixOffset > 64) {
        ids.splice(0, prefixOffset);
        readOffset -= prefixOffset;
        prefixOffset = 0;
      }
      return text.slice(prefix.length);
    },
    flush() {
      if (readOffset === ids.length) return '';
      const prefix = decode(prefixOffset, readOffset);
      const text = decode(prefixOffset);
      prefixOffset = readOffset;
      readOffset = ids.length;
      return text.slice(prefix.length);
    },
  };
}
