// Byte-level BPE trainer (GPT-2 / Qwen2 style) and the Hugging Face tokenizer files for it. Text is split
// by Qwen2's pre-tokenizer regex, each piece's UTF-8 bytes are mapped to printable characters (GPT-2's
// bytes_to_unicode), and merges are learned greedily by pair frequency over the counted pieces. The
// tokenizer.json mirrors Qwen2/Qwen3's (minus the NFC normalizer, which llama.cpp does not apply), so
// llama.cpp's "gpt2" tokenizer with pre-tokenizer "qwen2" splits and merges the same way.

/** Qwen2's Split pattern as tokenizer.json writes it (Rust regex syntax; llama.cpp's "qwen2" pre-type). */
export const QWEN2_SPLIT_REGEX =
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

/** The same pattern in JavaScript syntax (no inline (?i:), so the contractions spell out both cases). */
const SPLIT_JS =
  /'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD]|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+/gu;

export const ENDOFTEXT = '<|endoftext|>';
export const IM_START = '<|im_start|>';
export const IM_END = '<|im_end|>';
/** Special tokens, in id order after the BPE vocabulary (as Qwen2 numbers them). */
export const CHATML_SPECIALS = [ENDOFTEXT, IM_START, IM_END] as const;

/** ChatML as Qwen2.5 writes it, without the default system prompt and without tools. */
export const CHATML_TEMPLATE =
  "{%- if messages|length > 0 and messages[0]['role'] == 'system' %}\n" +
  "    {{- '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' }}\n" +
  '{%- endif %}\n' +
  '{%- for message in messages %}\n' +
  "    {%- if not (loop.first and message['role'] == 'system') %}\n" +
  "        {{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}\n" +
  '    {%- endif %}\n' +
  '{%- endfor %}\n' +
  '{%- if add_generation_prompt %}\n' +
  "    {{- '<|im_start|>assistant\\n' }}\n" +
  '{%- endif %}\n';

/**
 * GPT-2's bytes_to_unicode: printable Latin-1 bytes map to themselves, the other 68 to U+0100 onwards.
 * Returned in vocabulary order (the printable ones first), as GPT-2 and Qwen2 number their first 256 ids.
 */
export function byteLevelAlphabet(): { byte: number; char: string }[] {
  const printable = (b: number) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || b >= 0xae;
  const out: { byte: number; char: string }[] = [];
  for (let b = 0; b < 256; b++) if (printable(b)) out.push({ byte: b, char: String.fromCharCode(b) });
  let n = 0;
  for (let b = 0; b < 256; b++)
    if (!printable(b)) out.push({ byte: b, char: String.fromCharCode(256 + n++) });
  return out;
}

export interface TrainedBpe {
  /** Token strings by id (byte-level characters), without the special tokens. */
  tokens: string[];
  /** Merges in rank order. */
  merges: [string, string][];
  /** Special tokens: their ids follow `tokens`. */
  specials: { id: number; content: string }[];
}

/**
 * Learns merges until the vocabulary (256 byte tokens + merged tokens + specials) reaches `vocabSize`, or
 * no pair is left. Ties go to the pair with the smaller ids (left id first), as the HF trainer orders them.
 * Cost: one pass over the corpus, then per merge a scan of the live pairs and an update of only the words
 * that hold the merged pair.
 */
export function trainBpe(
  corpus: string,
  vocabSize: number,
  specials: readonly string[] = CHATML_SPECIALS,
): TrainedBpe {
  const alphabet = byteLevelAlphabet();
  if (vocabSize < alphabet.length + specials.length || vocabSize > 65536) {
    throw new Error(`BPE vocab size must be in [${alphabet.length + specials.length}, 65536]`);
  }
  const tokens = alphabet.map((a) => a.char);
  const idOf = new Map(tokens.map((t, i) => [t, i]));
  const byteId = new Int32Array(256);
  alphabet.forEach((a, i) => (byteId[a.byte] = i));

  // Count each distinct piece once, as a sequence of byte token ids.
  const counts = new Map<string, number>();
  for (const m of corpus.matchAll(SPLIT_JS)) counts.set(m[0], (counts.get(m[0]) ?? 0) + 1);
  const enc = new TextEncoder();
  const words: number[][] = [];
  const freq: number[] = [];
  for (const [piece, c] of counts) {
    words.push(Array.from(enc.encode(piece), (b) => byteId[b]));
    freq.push(c);
  }

  // Pair key a·65536 + b: numeric order is (a, b) order, which breaks count ties.
  const pairCount = new Map<number, number>();
  const pairWords = new Map<number, Set<number>>();
  const addPairs = (w: number, sign: 1 | -1) => {
    const s = words[w];
    for (let i = 0; i + 1 < s.length; i++) {
      const k = s[i] * 65536 + s[i + 1];
      pairCount.set(k, (pairCount.get(k) ?? 0) + sign * freq[w]);
      if (sign > 0) {
        let set = pairWords.get(k);
        if (!set) pairWords.set(k, (set = new Set()));
        set.add(w);
      }
    }
  };
  for (let w = 0; w < words.length; w++) addPairs(w, 1);

  const merges: [string, string][] = [];
  const target = vocabSize - specials.length;
  while (tokens.length < target) {
    let best = -1;
    let bestCount = 0;
    for (const [k, c] of pairCount) {
      if (c <= 0) pairCount.delete(k);
      else if (c > bestCount || (c === bestCount && k < best)) {
        best = k;
        bestCount = c;
      }
    }
    if (best < 0) break;
    const a = Math.floor(best / 65536);
    const b = best % 65536;
    const merged = tokens[a] + tokens[b];
    // The same string can come from two different pairs: the merge is recorded, the token kept once.
    let id = idOf.get(merged);
    if (id === undefined) {
      id = tokens.length;
      tokens.push(merged);
      idOf.set(merged, id);
    }
    merges.push([tokens[a], tokens[b]]);
    for (const w of pairWords.get(best)!) {
      const s = words[w];
      let has = false;
      for (let i = 0; i + 1 < s.length && !has; i++) has = s[i] === a && s[i + 1] === b;
      if (!has) continue;
      addPairs(w, -1);
      const out: number[] = [];
      for (let i = 0; i < s.length; i++) {
        if (i + 1 < s.length && s[i] === a && s[i + 1] === b) {
          out.push(id);
          i++;
        } else out.push(s[i]);
      }
      words[w] = out;
      addPairs(w, 1);
    }
    pairWords.delete(best);
  }
  return {
    tokens,
    merges,
    specials: specials.map((content, i) => ({ id: tokens.length + i, content })),
  };
}

/** tokenizer.json in the layout of Qwen2/Qwen3's file (HF tokenizers' serialisation, 2-space indent). */
export function tokenizerJson(bpe: TrainedBpe): string {
  const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false };
  const json = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: bpe.specials.map((s) => ({
      id: s.id,
      content: s.content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: null,
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [
        { type: 'Split', pattern: { Regex: QWEN2_SPLIT_REGEX }, behavior: 'Isolated', invert: false },
        byteLevel,
      ],
    },
    post_processor: byteLevel,
    decoder: byteLevel,
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: '',
      end_of_word_suffix: '',
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab: Object.fromEntries(bpe.tokens.map((t, i) => [t, i])),
      merges: bpe.merges,
    },
  };
  return JSON.stringify(json, null, 2) + '\n';
}

/** tokenizer_config.json for a ChatML tokenizer, as Qwen2.5 writes it (no BOS; EOS is the end of turn). */
export function chatmlTokenizerConfig(bpe: TrainedBpe, modelMaxLength: number): Record<string, unknown> {
  const decoder: Record<string, unknown> = {};
  for (const s of bpe.specials) {
    decoder[String(s.id)] = {
      content: s.content,
      lstrip: false,
      normalized: false,
      rstrip: false,
      single_word: false,
      special: true,
    };
  }
  return {
    add_bos_token: false,
    add_prefix_space: false,
    added_tokens_decoder: decoder,
    additional_special_tokens: bpe.specials.map((s) => s.content).filter((c) => c !== ENDOFTEXT),
    bos_token: null,
    chat_template: CHATML_TEMPLATE,
    clean_up_tokenization_spaces: false,
    eos_token: IM_END,
    errors: 'replace',
    model_max_length: modelMaxLength,
    pad_token: ENDOFTEXT,
    split_special_tokens: false,
    tokenizer_class: 'Qwen2Tokenizer',
    unk_token: null,
  };
}
