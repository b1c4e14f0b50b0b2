# Writes tests/fixtures/golden/ifd.json: Instruction-Following Difficulty of every row of each golden
# case's data.jsonl (tools/golden.py's tiny models), for the base model and with adapter_init, as PyTorch
# computes it. With S the row's trained span (labels != -100; one span per row):
#   IFD = CE(S[1:] | everything before S[1]) / CE(S[1:] | S[0] alone)   (mean token cross-entropies)
# null when the row has several spans or |S| < 2. Run: /usr/bin/python3 tools/golden_ifd.py (torch CPU).

import json
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # keep tools/ free of __pycache__
import golden_model as gm  # noqa: E402

ROOT = os.path.normpath(os.path.join(HERE, "..", "tests", "fixtures", "golden"))


def spans(labels):
    out = []
    for t, l in enumerate(labels):
        if l == -100:
            continue
        if out and out[-1][1] == t:
            out[-1][1] = t + 1
        else:
            out.append([t, t + 1])
    return out


def mean_ce(cfg, W, lora, ids, first_target):
    """Mean CE of ids[first_target:], each predicted from the tokens before it."""
    labels = [-100] * first_target + ids[first_target:]
    ce, n = gm.ce_sum(cfg, W, lora, gm.collate([{"input_ids": ids, "labels": labels}]))
    return (ce / n).item()


def ifd(cfg, W, lora, row):
    sp = spans(row["labels"])
    if len(sp) != 1 or sp[0][1] - sp[0][0] < 2:
        return None
    s, e = sp[0]
    ids = row["input_ids"][:e]
    conditioned = mean_ce(cfg, W, lora, ids, s + 1)
    alone = mean_ce(cfg, W, lora, ids[s:], 1)
    return {"ifd": conditioned / alone, "conditioned": conditioned, "alone": alone}


def to64(W):
    return {k: v.double() for k, v in W.items()}


def main():
    torch.set_num_threads(1)
    index = json.load(open(os.path.join(ROOT, "index.json")))
    out = {"generator": "tools/golden_ifd.py", "cases": {}}
    for case in index["cases"]:
        name = case["name"]
        d = os.path.join(ROOT, name)
        cfg = json.load(open(os.path.join(d, "model", "config.json")))
        W = gm.load_safetensors(os.path.join(d, "model", "model.safetensors"))
        lcfg = json.load(open(os.path.join(d, "adapter_init", "adapter_config.json")))
        lora = {"tensors": gm.load_safetensors(os.path.join(d, "adapter_init", "adapter_model.safetensors")),
                "scale": gm.lora_scale(lcfg)}
        lora64 = {"tensors": to64(lora["tensors"]), "scale": lora["scale"]}
        rows = [json.loads(l) for l in open(os.path.join(d, "data.jsonl")) if l.strip()]
        res = {"base": [], "adapter_init": []}
        worst = 0.0
        for row in rows:
            for key, lo, lo64 in (("base", None, None), ("adapter_init", lora, lora64)):
                r = ifd(cfg, W, lo, row)
                r64 = ifd(cfg, to64(W), lo64, row)
                if r is not None:
                    worst = max(worst, abs(r["ifd"] - r64["ifd"]) / abs(r64["ifd"]))
                res[key].append(r)
        res["float64_agreement"] = worst
        assert worst < 1e-5, (name, worst)
        print(f"{name}: {[None if r is None else round(r['ifd'], 6) for r in res['adapter_init']]}"
              f" (float64 agreement {worst:.2e})")
        out["cases"][name] = res
    with open(os.path.join(ROOT, "ifd.json"), "w") as f:
        json.dump(out, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
