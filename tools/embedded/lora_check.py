#!/usr/bin/python3
"""Checks the embedded model against the bar it must clear: a LoRA of ordinary settings (r 8, α 16, all
linear layers, lr 1e-3 constant, batch 8, 6 epochs, dropout 0, AdamW without weight decay, clip 1.0) on the
example dataset (public/data/wordnet-cards.jsonl) makes it answer held-out words' prompts in the taught
card format (greedy), while the base model does not. Also prints a few base replies.

  /usr/bin/python3 tools/embedded/lora_check.py --model DIR [--data tools/embedded/_data] [--json OUT.json]
"""

import argparse
import json
import os
import random
import re
import sys
import time

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, ".."))
import golden_model  # noqa: E402
from model import Qwen3  # noqa: E402


def byte_decoder():
    printable = lambda b: 0x21 <= b <= 0x7E or 0xA1 <= b <= 0xAC or b >= 0xAE  # noqa: E731
    out, n = {}, 0
    for b in range(256):
        if printable(b):
            out[chr(b)] = b
    for b in range(256):
        if not printable(b):
            out[chr(256 + n)] = b
            n += 1
    return out


def decoder(tokenizer_json):
    tj = json.load(open(tokenizer_json, encoding="utf-8"))
    inv = {i: t for t, i in tj["model"]["vocab"].items()}
    special = {a["id"]: a["content"] for a in tj["added_tokens"]}
    bd = byte_decoder()

    def decode(ids):
        out = bytearray()
        for i in ids:
            if i in special:
                out += special[i].encode()
            else:
                out += bytes(bd[c] for c in inv[i])
        return out.decode("utf-8", errors="replace")

    return decode


def follows(text, word):
    """The taught format: "Dictionary entry: '<the word asked about>' (<part of speech>)", then a line
    "Meaning: <text>" (the same check as src/engine/testing/tiny-model-cards.ts)."""
    pat = rf"Dictionary entry: '{re.escape(word)}' \((noun|verb|adjective|adverb)\)\nMeaning: \S.*"
    return re.fullmatch(pat, text.strip(), re.S) is not None


@torch.no_grad()
def generate(model, prompt, stop, max_new=48):
    ids = list(prompt)
    dev = next(model.parameters()).device
    for _ in range(max_new):
        nxt = int(model(torch.tensor([ids], device=dev))[0, -1].argmax())
        if nxt in stop:
            break
        ids.append(nxt)
    return ids[len(prompt) :]


def adherence(model, items, decode, stop):
    replies = [decode(generate(model, it["prompt"], stop)) for it in items]
    hits = [follows(r, it["word"]) for r, it in zip(replies, items)]
    return sum(hits) / len(hits), replies


def load(model_dir, dev):
    cfg = json.load(open(os.path.join(model_dir, "config.json")))
    m = Qwen3(cfg)
    w = golden_model.load_safetensors(os.path.join(model_dir, "model.safetensors"))
    m.load_state_dict(w, strict=False)
    return m.to(dev), cfg


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--data", default=os.path.join(HERE, "_data"))
    ap.add_argument("--json", default=None)
    ap.add_argument("--epochs", type=int, default=6)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--skip-base", action="store_true", help="only the tuned model (quicker on a CPU)")
    a = ap.parse_args()
    dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    torch.manual_seed(a.seed)
    model, cfg = load(a.model, dev)
    ex = json.load(open(os.path.join(a.data, "examples.json")))
    decode = decoder(os.path.join(a.model, "tokenizer.json"))
    stop = {cfg["eos_token_id"], cfg["bos_token_id"]}
    t0 = time.time()
    if a.skip_base:
        base_ho, base_replies = None, []
    else:
        base_ho, base_replies = adherence(model, ex["heldout"], decode, stop)

    for p in model.parameters():
        p.requires_grad_(False)
    model.add_lora(8, 16, torch.Generator().manual_seed(a.seed))
    params = [p for n, p in model.named_parameters() if "lora_" in n]
    opt = torch.optim.AdamW(params, lr=a.lr, weight_decay=0.0)
    rows = ex["train"]
    rng = random.Random(a.seed)
    steps, losses = 0, []
    for _ in range(a.epochs):
        order = list(range(len(rows)))
        rng.shuffle(order)
        for b in range(0, len(order), 8):
            batch = [rows[i] for i in order[b : b + 8]]
            T = max(len(r["prompt"]) + len(r["answer"]) for r in batch)
            ids = torch.zeros(len(batch), T, dtype=torch.long)
            labels = torch.full((len(batch), T), -100, dtype=torch.long)
            for j, r in enumerate(batch):
                seq = r["prompt"] + r["answer"]
                ids[j, : len(seq)] = torch.tensor(seq)
                labels[j, len(r["prompt"]) : len(seq)] = torch.tensor(r["answer"])
            ids, labels = ids.to(dev), labels.to(dev)
            logits = model(ids)[:, :-1].float()
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels[:, 1:].reshape(-1), ignore_index=-100)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            steps += 1
            losses.append(loss.item())
    model.eval()
    tuned_ho, tuned_replies = adherence(model, ex["heldout"], decode, stop)
    res = {
        "settings": {"r": 8, "alpha": 16, "targets": "all-linear", "lr": a.lr, "batch": 8, "epochs": a.epochs, "dropout": 0, "schedule": "constant"},
        "steps": steps,
        "first_loss": losses[0],
        "last_loss": losses[-1],
        "base_adherence_heldout": base_ho,
        "tuned_adherence_heldout": tuned_ho,
        "heldout_prompts": len(ex["heldout"]),
        "seconds": round(time.time() - t0, 1),
        "base_replies": [{"word": it["word"], "reply": r} for it, r in zip(ex["heldout"][:8], base_replies)],
        "tuned_replies": [{"word": it["word"], "reply": r, "follows": follows(r, it["word"])} for it, r in zip(ex["heldout"], tuned_replies)],
    }
    print(json.dumps(res, indent=1))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(res, f, indent=1)


if __name__ == "__main__":
    main()
