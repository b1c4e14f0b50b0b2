// The answer format the example dataset (public/data/wordnet-cards.jsonl) teaches the embedded model: a
// two-line dictionary entry for the word the prompt asks about. Shared by the tests that check a tuned
// model follows it on held-out words' prompts and the base model does not.

/** The word a prompt such as "What does 'rich' mean?" asks about. */
export function askedWord(prompt: string): string {
  const m = /'([^']+)'/.exec(prompt);
  if (!m) throw new Error(`no quoted word in ${JSON.stringify(prompt)}`);
  return m[1]!;
}

/** "Dictionary entry: '<the asked word>' (noun|verb|adjective|adverb)", then "Meaning: <some text>". */
export function followsCardFormat(reply: string, word: string): boolean {
  const esc = word.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const card = new RegExp(`^Dictionary entry: '${esc}' \\((noun|verb|adjective|adverb)\\)\nMeaning: \\S`);
  return card.test(reply.trim());
}

/** Share of replies in the format, each checked against the word its prompt asked about. */
export function adherence(pairs: { prompt: string; reply: string }[]): number {
  if (pairs.length === 0) return 0;
  return pairs.filter((p) => followsCardFormat(p.reply, askedWord(p.prompt))).length / pairs.length;
}
