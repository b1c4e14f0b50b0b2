#!/usr/bin/python3
"""Renders WordNet 3.0 (Debian's wordnet-base, /usr/share/wordnet) as the embedded model's pretraining text
and builds the studio's example dataset. Deterministic: the same WordNet files give the same bytes.

  /usr/bin/python3 tools/embedded/build_data.py [--wordnet /usr/share/wordnet] [--out tools/embedded/_data]

Writes OUT/train.txt and OUT/heldout.txt (documents separated by <|endoftext|>; Q/A documents in ChatML),
OUT/stats.json, and public/data/wordnet-cards.jsonl (training pairs) and
public/data/wordnet-cards-heldout.jsonl (prompts on other words, with the answer the format asks for).
A word is held out when md5(word) % 25 == 0: no training document is about it (it may still appear inside
another word's gloss), and heldout.txt holds exactly the documents about those words.
"""

import argparse
import hashlib
import json
import os
import random
import re

POS_FILES = {"noun": "noun", "verb": "verb", "adj": "adjective", "adv": "adverb"}
EOT = "<|endoftext|>"
HELDOUT_MOD = 25
N_TRAIN_PAIRS = 50
N_HELDOUT_PROMPTS = 32
SEED = 11


def held_out(word):
    return int(hashlib.md5(word.lower().encode()).hexdigest(), 16) % HELDOUT_MOD == 0


def clean_word(w):
    return re.sub(r"\([a-z]+\)$", "", w).replace("_", " ")


def parse_data(path, pos):
    """Yields synsets: offset, words, hypernym offsets, definition, examples."""
    with open(path, encoding="latin-1") as f:
        for line in f:
            if line.startswith("  "):
                continue
            head, _, gloss = line.partition(" | ")
            t = head.split()
            offset, w_cnt = t[0], int(t[3], 16)
            words = [clean_word(t[4 + 2 * i]) for i in range(w_cnt)]
            i = 4 + 2 * w_cnt
            p_cnt = int(t[i])
            ptrs = [t[i + 1 + 4 * k : i + 5 + 4 * k] for k in range(p_cnt)]
            hypers = [p[1] for p in ptrs if p[0] in ("@", "@i") and p[2] == "n"]
            parts = [p.strip() for p in gloss.strip().split(";")]
            defs = [p for p in parts if p and not p.startswith('"')]
            examples = [p.strip('"').strip() for p in parts if p.startswith('"')]
            definition = "; ".join(defs).strip()
            if not definition:
                continue
            yield {
                "offset": offset,
                "pos": POS_FILES[pos],
                "words": list(dict.fromkeys(words)),
                "hypers": hypers,
                "definition": definition,
                "examples": [e for e in examples if e],
            }


def article(w):
    return "an" if w[:1].lower() in "aeiou" else "a"


def chat(user, assistant):
    return f"<|im_start|>user\n{user}<|im_end|>\n<|im_start|>assistant\n{assistant}<|im_end|>\n"


def sentence(s):
    s = s[0].upper() + s[1:]
    return s if s.endswith((".", "!", "?")) else s + "."


def documents(s, noun_names, rng, keep):
    """The plain-text entry for a synset and its question/answer documents, about its words that keep()."""
    words = [w for w in s["words"] if keep(w)]
    if not words:
        return []
    head = words[0]
    hyper = next((noun_names[h] for h in s["hypers"] if h in noun_names), None)
    text = f"{head} ({s['pos']}): {sentence(s['definition'])}"
    if hyper:
        text += f" {sentence(f'{article(head)} {head} is a kind of {hyper}')}"
    if len(words) > 1:
        text += f" Also: {', '.join(words[1:])}."
    for e in s["examples"][:2]:
        text += f' Example: "{sentence(e)}"'
    docs = [text]
    for w in words[:3]:
        docs.append(chat(f"What does '{w}' mean?", sentence(s["definition"])))
    extra = []
    if len(words) > 1:
        other = rng.choice(words[1:])
        extra.append(chat(f"Give a synonym of '{head}'.", f"'{other}' means much the same as '{head}'."))
    if hyper:
        extra.append(chat(f"What is {article(head)} '{head}'?", sentence(f"{article(head)} {head} is a kind of {hyper}")))
    usable = [e for e in s["examples"] if any(w.lower() in e.lower() for w in words)]
    if usable:
        extra.append(chat(f"Use '{head}' in a sentence.", sentence(usable[0])))
    if extra:
        docs.append(rng.choice(extra))
    return docs


def card(word, pos, definition):
    """The example dataset's answer format: a two-line dictionary entry. The word is quoted as the question
    quotes it, so it is the same tokens in both."""
    return f"Dictionary entry: '{word}' ({pos})\nMeaning: {definition}"


def example_words(synsets, wordnet):
    """Common one-word lemmas (by WordNet's sense-tagged corpus counts, cntlist.rev) with a short first-sense definition."""
    by_offset = {(s["pos"], s["offset"]): s for s in synsets}
    freq, by_pos = {}, {}
    ss_pos = {"1": "noun", "2": "verb", "3": "adjective", "4": "adverb", "5": "adjective"}
    with open(os.path.join(wordnet, "cntlist.rev"), encoding="latin-1") as f:
        for line in f:
            key, _, count = line.split()
            lemma = key.split("%")[0]
            freq[lemma] = freq.get(lemma, 0) + int(count)
            lp = (lemma, ss_pos[key.split("%")[1][0]])
            by_pos[lp] = by_pos.get(lp, 0) + int(count)
    cands = []
    for pos, name in POS_FILES.items():
        with open(os.path.join(wordnet, f"index.{pos}"), encoding="latin-1") as f:
            for line in f:
                if line.startswith("  "):
                    continue
                t = line.split()
                lemma, synset_cnt, p_cnt = t[0], int(t[2]), int(t[3])
                first = t[6 + p_cnt]
                s = by_offset.get((name, first))
                if not s or not re.fullmatch(r"[a-z]{3,10}", lemma) or freq.get(lemma, 0) < 20 or held_out(lemma):
                    continue
                if 2 * by_pos.get((lemma, name), 0) < freq[lemma]:  # a word's usual part of speech only
                    continue
                if len(s["definition"]) > 70 or synset_cnt > 6:
                    continue
                cands.append((lemma, name, sentence(s["definition"])))
    cands.sort()
    random.Random(SEED).shuffle(cands)
    seen, out = set(), []
    for c in cands:
        if c[0] not in seen:
            seen.add(c[0])
            out.append(c)
    return out[:N_TRAIN_PAIRS], out[N_TRAIN_PAIRS : N_TRAIN_PAIRS + N_HELDOUT_PROMPTS]


QUESTIONS = ["What does '{w}' mean?"]  # the question pretraining answered with a bare definition


def rows(items, offset=0):
    return [
        {
            "messages": [
                {"role": "user", "content": QUESTIONS[(i + offset) % len(QUESTIONS)].format(w=w)},
                {"role": "assistant", "content": card(w, pos, d)},
            ]
        }
        for i, (w, pos, d) in enumerate(items)
    ]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--wordnet", default="/usr/share/wordnet")
    ap.add_argument("--out", default="tools/embedded/_data")
    ap.add_argument("--public", default="public/data")
    a = ap.parse_args()
    synsets = []
    for pos in POS_FILES:
        synsets += list(parse_data(os.path.join(a.wordnet, f"data.{pos}"), pos))
    noun_names = {s["offset"]: s["words"][0] for s in synsets if s["pos"] == "noun"}
    rng = random.Random(SEED)
    train, heldout = [], []
    for s in synsets:
        train += documents(s, noun_names, rng, lambda w: not held_out(w))
        heldout += documents(s, noun_names, rng, held_out)
    rng.shuffle(train)
    os.makedirs(a.out, exist_ok=True)
    os.makedirs(a.public, exist_ok=True)
    for name, docs in (("train.txt", train), ("heldout.txt", heldout)):
        with open(os.path.join(a.out, name), "w", encoding="utf-8") as f:
            f.write(EOT.join(docs) + EOT)
    with open(os.path.join(a.out, "heldout-sample.jsonl"), "w", encoding="utf-8") as f:
        for d in heldout[:64]:
            f.write(json.dumps({"text": d}) + "\n")
    tr, ho = example_words(synsets, a.wordnet)
    for name, items, off in (("wordnet-cards.jsonl", tr, 0), ("wordnet-cards-heldout.jsonl", ho, 1)):
        with open(os.path.join(a.public, name), "w", encoding="utf-8") as f:
            for r in rows(items, off):
                f.write(json.dumps(r) + "\n")
    stats = {
        "synsets": len(synsets),
        "train_docs": len(train),
        "heldout_docs": len(heldout),
        "train_chars": sum(map(len, train)),
        "heldout_chars": sum(map(len, heldout)),
        "example_pairs": len(tr),
        "heldout_prompts": len(ho),
    }
    with open(os.path.join(a.out, "stats.json"), "w") as f:
        json.dump(stats, f, indent=1)
    print(json.dumps(stats))


if __name__ == "__main__":
    main()
