// The `tokenizer.*` GGUF metadata llama.cpp reads, from an HF tokenizer.json, following llama.cpp's
// convert_hf_to_gguf.py: byte-level BPE → model "gpt2" with its merges and the pre-tokenizer named by
// `tokenizer.ggml.pre` (decided here from the pre-tokenizer's regex, not a hash); SentencePiece-style BPE
// with byte fallback → model "llama", where llama.cpp merges by token score: score = −(rank of the merge that
// makes the token) reproduces HF's merge order. Token types: 1 normal, 2 unknown, 3 control, 4 user-defined,
// 5 unused (padding up to the model's vocab_size), 6 byte.

import { UserError } from '../errors';
import type { ModelConfig } from '../model/config';
import type { LoadedModel } from '../model/weights';
import { loadTokenizer } from '../text/tokenizer';
import { gv, type GgufValue } from './gguf';

export const TOKEN_TYPE = { normal: 1, unknown: 2, control: 3, userDefined: 4, unused: 5, byte: 6 } as const;

// Pre-tokenizer regexes as they appear in tokenizer.json, and llama.cpp's name for each.
const QWEN2_REGEX =
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const LLAMA3_REGEX =
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const SPLIT_PRE: Record<string, string> = { [QWEN2_REGEX]: 'qwen2', [LLAMA3_REGEX]: 'llama-bpe' };

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const WHERE = 'tokenizer.json';

/** A Sequence's children, or the single component, or nothing. */
function parts(component: unknown, key: string): Json[] {
  if (!isObj(component)) return [];
  if (component.type === 'Sequence' && Array.isArray(component[key])) return component[key] as Json[];
  return [component];
}

/** llama.cpp's `tokenizer.ggml.pre` for a byte-level BPE tokenizer, from its pre-tokenizer. */
export function detectBpePre(tokenizer: Json): string {
  const pre = parts(tokenizer.pre_tokenizer, 'pretokenizers');
  const types = pre.map((p) => p.type).join(',');
  const byteLevel = pre.find((p) => p.type === 'ByteLevel');
  if (byteLevel?.add_prefix_space === true) {
    throw new UserError('a byte-level pre-tokenizer with add_prefix_space cannot be exported to GGUF', WHERE);
  }
  if (types === 'Split,ByteLevel' && byteLevel?.use_regex === false) {
    const regex = (pre[0].pattern as Json | undefined)?.Regex;
    if (typeof regex === 'string' && SPLIT_PRE[regex] && pre[0].behavior === 'Isolated')
      return SPLIT_PRE[regex];
  }
  if (types === 'Digits,ByteLevel' && pre[0].individual_digits === true && byteLevel?.use_regex !== false) {
    return 'smollm';
  }
  if (types === 'ByteLevel' && byteLevel?.use_regex !== false) return 'gpt-2';
  throw new UserError(
    `the tokenizer's pre-tokenizer (${types || 'none'}) is not one this exporter maps to a llama.cpp pre-tokenizer (Qwen2, Llama 3, SmolLM, GPT-2)`,
    WHERE,
  );
}

/** The merges as "left right" strings, from either tokenizer.json format (strings or pairs). */
function mergeList(model: Json): string[] {
  const merges = model.merges;
  if (!Array.isArray(merges)) throw new UserError('BPE model has no merges list', WHERE);
  return merges.map((m, i) => {
    if (typeof m === 'string') return m;
    if (Array.isArray(m) && m.length === 2 && typeof m[0] === 'string' && typeof m[1] === 'string') {
      // A space inside a piece would break llama.cpp's "a b" split; it encodes it as U+0120 like the converter.
      return m.map((s: string) => s.replaceAll(' ', '\u0120')).join(' ');
    }
    throw new UserError(`merge ${i} is neither "a b" nor ["a", "b"]`, WHERE);
  });
}

interface AddedToken {
  id: number;
  content: string;
  special: boolean;
}

/** Every token by id, padded to `size` with unique "[PAD{i}]" names (type unused). */
function tokenTable(tokenizer: Json, size: number) {
  const model = tokenizer.model as Json;
  const vocab = model.vocab;
  if (!isObj(vocab)) throw new UserError('BPE model has no vocab object', WHERE);
  const tokens: (string | undefined)[] = new Array(size);
  const put = (id: unknown, text: string) => {
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0)
      throw new UserError(`bad id for ${text}`, WHERE);
    if (id >= size) {
      throw new UserError(
        `token ${JSON.stringify(text)} has id ${id} but the model's vocab_size is ${size}`,
        WHERE,
      );
    }
    tokens[id] = text;
  };
  for (const [text, id] of Object.entries(vocab)) put(id, text);
  const added: AddedToken[] = [];
  for (const t of (tokenizer.added_tokens as Json[] | undefined) ?? []) {
    const a = { id: t.id as number, content: String(t.content), special: t.special === true };
    put(a.id, a.content);
    added.push(a);
  }
  const seen = new Set<string>();
  const list: string[] = [];
  for (let i = 0; i < size; i++) {
    let t = tokens[i] ?? `[PAD${i}]`;
    if (seen.has(t)) {
      // llama.cpp needs unique token texts; a second id with the same text is unreachable anyway.
      t = `[PAD${i}]`;
      tokens[i] = undefined;
    }
    seen.add(t);
    list.push(t);
  }
  return { tokens: list, present: tokens.map((t) => t !== undefined), added };
}

/** Looks like a control token to llama.cpp's converter (`<|…|>`). */
const looksSpecial = (t: string) => t.startsWith('<|') && t.endsWith('|>');

function tokenName(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (isObj(v) && typeof v.content === 'string') return v.content;
  return undefined;
}

/**
 * `tokenizer.*` metadata for llama.cpp. Needs tokenizer.json; tokenizer_config.json supplies special tokens
 * and the chat template; config.json's ids fill what it lacks.
 */
export function ggufTokenizerMetadata(
  files: LoadedModel['files'],
  config: ModelConfig,
): [string, GgufValue][] {
  if (!files.tokenizerJson) throw new UserError('the model has no tokenizer.json');
  let tokenizer: Json;
  try {
    tokenizer = JSON.parse(files.tokenizerJson) as Json;
  } catch (e) {
    throw new UserError(`not valid JSON (${(e as Error).message})`, WHERE);
  }
  const model = tokenizer.model;
  if (!isObj(model) || model.type !== 'BPE') {
    const type = isObj(model) ? String(model.type) : 'none';
    throw new UserError(`tokenizer model ${type} cannot be exported to GGUF (only BPE)`, WHERE);
  }
  const preTypes = parts(tokenizer.pre_tokenizer, 'pretokenizers').map((p) => p.type);
  const byteLevel =
    preTypes.includes('ByteLevel') || (isObj(tokenizer.decoder) && tokenizer.decoder.type === 'ByteLevel');
  const spm = !byteLevel && model.byte_fallback === true;
  if (!byteLevel && !spm) {
    throw new UserError(
      'a BPE tokenizer that is neither byte-level nor byte-fallback cannot be exported to GGUF',
      WHERE,
    );
  }

  const size = config.vocab_size;
  const { tokens, present, added } = tokenTable(tokenizer, size);
  const addedById = new Map(added.map((a) => [a.id, a]));
  const unk = typeof model.unk_token === 'string' ? model.unk_token : undefined;
  const types = new Int32Array(size);
  for (let i = 0; i < size; i++) {
    const a = addedById.get(i);
    if (!present[i]) types[i] = TOKEN_TYPE.unused;
    else if (spm && tokens[i] === unk) types[i] = TOKEN_TYPE.unknown;
    else if (a) types[i] = a.special || looksSpecial(a.content) ? TOKEN_TYPE.control : TOKEN_TYPE.userDefined;
    else if (spm && /^<0x[0-9A-Fa-f]{2}>$/.test(tokens[i])) types[i] = TOKEN_TYPE.byte;
    else types[i] = TOKEN_TYPE.normal;
  }

  const kv: [string, GgufValue][] = [];
  const merges = mergeList(model);
  if (byteLevel) {
    kv.push(
      ['tokenizer.ggml.model', gv.str('gpt2')],
      ['tokenizer.ggml.pre', gv.str(detectBpePre(tokenizer))],
    );
    kv.push(
      ['tokenizer.ggml.tokens', gv.arr('string', tokens)],
      ['tokenizer.ggml.token_type', gv.arr('i32', types)],
    );
    kv.push(['tokenizer.ggml.merges', gv.arr('string', merges)]);
  } else {
    kv.push(['tokenizer.ggml.model', gv.str('llama')], ['tokenizer.ggml.pre', gv.str('default')]);
    kv.push(['tokenizer.ggml.tokens', gv.arr('string', tokens)]);
    kv.push(['tokenizer.ggml.scores', gv.arr('f32', mergeScores(tokens, merges))]);
    kv.push(['tokenizer.ggml.token_type', gv.arr('i32', types)]);
    kv.push(['tokenizer.ggml.add_space_prefix', gv.bool(prependsSpace(tokenizer))]);
  }

  // Special tokens: tokenizer_config.json by name, then config.json's ids.
  const tc = isObj(files.tokenizerConfig) ? files.tokenizerConfig : {};
  const idOf = new Map(tokens.map((t, i) => [t, i]));
  const named = (key: string) => {
    const name = tokenName(tc[key]);
    return name === undefined ? undefined : idOf.get(name);
  };
  const hf = loadTokenizer(tokenizer, tc);
  const plain = hf.encode('a', { addSpecialTokens: false });
  const full = hf.encode('a', { addSpecialTokens: true });
  const addBos = full.length > plain.length && full[0] !== plain[0];
  const addEos = full.length > plain.length && full[full.length - 1] !== plain[plain.length - 1];
  const bos = addBos ? full[0] : (named('bos_token') ?? config.bos_token_id ?? undefined);
  const eos = named('eos_token') ?? config.eos_token_id[0];
  const ids: [string, number | undefined][] = [
    ['bos', bos],
    ['eos', addEos ? full[full.length - 1] : eos],
    ['unknown', spm && unk !== undefined ? idOf.get(unk) : named('unk_token')],
    ['padding', named('pad_token')],
  ];
  for (const [k, id] of ids) {
    if (id !== undefined && id !== null && id < size) kv.push([`tokenizer.ggml.${k}_token_id`, gv.u32(id)]);
  }
  kv.push(
    ['tokenizer.ggml.add_bos_token', gv.bool(addBos)],
    ['tokenizer.ggml.add_eos_token', gv.bool(addEos)],
  );
  if (files.chatTemplate) kv.push(['tokenizer.chat_template', gv.str(files.chatTemplate)]);
  return kv;
}

/**
 * Scores for llama.cpp's SentencePiece merge loop, which joins the adjacent pair whose concatenation is the
 * highest-scoring token: −(rank of the first merge producing the token). Tokens no merge produces (single
 * characters, bytes, specials) get the lowest score, so llama.cpp forms them by concatenation last.
 */
function mergeScores(tokens: string[], merges: string[]): Float32Array {
  const rank = new Map<string, number>();
  merges.forEach((m, r) => {
    const sp = m.indexOf(' ', 1);
    const t = (m.slice(0, sp) + m.slice(sp + 1)).replaceAll('\u0120', ' ');
    if (!rank.has(t)) rank.set(t, r);
  });
  const lowest = -(merges.length + 1);
  return Float32Array.from(tokens, (t) => {
    const r = rank.get(t);
    return r === undefined ? lowest : -r;
  });
}

/** Whether the SentencePiece-style normalizer / pre-tokenizer prepends "▁" (llama.cpp: add_space_prefix). */
function prependsSpace(tokenizer: Json): boolean {
  for (const n of parts(tokenizer.normalizer, 'normalizers')) {
    if (n.type === 'Prepend' && n.prepend === '\u2581') return true;
  }
  for (const p of parts(tokenizer.pre_tokenizer, 'pretokenizers')) {
    if (p.type === 'Metaspace') return p.prepend_scheme !== 'never' && p.add_prefix_space !== false;
  }
  return false;
}
