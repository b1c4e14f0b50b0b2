"""Checks of our exports by Hugging Face's own libraries, run by the GPU driver (tools/gpu/driver.py).

  hf_check.py logits CASE_DIR   transformers + peft load our PEFT adapter (CASE_DIR/adapter) onto the base
                                (CASE_DIR/model) and load our merged safetensors (CASE_DIR/merged); their logits
                                for the fixed ids are compared with our engine's (CASE_DIR/logits.json).
                                Without transformers/peft the same comparison runs on tools/golden_model.py
                                (an independent functional forward), and the JSON says so.
  hf_check.py recipe-loss RECIPE_DIR ADAPTER_DIR
                                the mean token loss (Σ CE / Σ tokens over data.jsonl, float32) of the base with
                                the adapter, rows prepared by the recipe's own train_trl.py helpers.
Prints one JSON object.
"""

import importlib.util
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def have(*mods):
    return all(importlib.util.find_spec(m) is not None for m in mods)


def versions():
    out = {}
    for m in ("torch", "transformers", "peft", "accelerate", "trl", "safetensors"):
        if have(m):
            try:
                out[m] = __import__(m).__version__
            except Exception as e:  # a broken install is worth reporting, not fatal
                out[m] = f"import failed: {e}"
    return out


def max_diff(a, b):
    import torch

    return float((torch.as_tensor(a, dtype=torch.float64) - torch.as_tensor(b, dtype=torch.float64)).abs().max())


def logits_transformers(case, ids, frm):
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    x = torch.tensor([ids])
    with torch.no_grad():
        base = AutoModelForCausalLM.from_pretrained(str(case / "model"), torch_dtype=torch.float32).eval()
        tuned = PeftModel.from_pretrained(base, str(case / "adapter")).eval()
        with_adapter = tuned(input_ids=x).logits[0, frm:]
        merged_model = AutoModelForCausalLM.from_pretrained(str(case / "merged"), torch_dtype=torch.float32).eval()
        merged = merged_model(input_ids=x).logits[0, frm:]
    return with_adapter, merged


def logits_golden(case, ids, frm):
    import torch

    sys.path[:0] = [str(HERE), str(HERE.parent)]  # golden_model.py: beside this file in the bundle, tools/ here
    from golden_model import forward, load_safetensors, lora_scale

    cfg = json.loads((case / "model" / "config.json").read_text())
    cfg.setdefault("tie_word_embeddings", False)
    W = load_safetensors(str(case / "model" / "model.safetensors"))
    lcfg = json.loads((case / "adapter" / "adapter_config.json").read_text())
    lora = {"tensors": load_safetensors(str(case / "adapter" / "adapter_model.safetensors")),
            "scale": lora_scale(lcfg)}
    mcfg = json.loads((case / "merged" / "config.json").read_text())
    mcfg.setdefault("tie_word_embeddings", False)
    Wm = load_safetensors(str(case / "merged" / "model.safetensors"))
    x = torch.tensor([ids])
    with torch.no_grad():
        return forward(cfg, W, lora, x)[0, frm:], forward(mcfg, Wm, None, x)[0, frm:]


def check_logits(case_dir):
    case = Path(case_dir)
    ours = json.loads((case / "logits.json").read_text())
    ids, frm = ours["input_ids"], ours["from_position"]
    hf = have("transformers", "peft")
    with_adapter, merged = (logits_transformers if hf else logits_golden)(case, ids, frm)
    d_adapter = max_diff(with_adapter, ours["adapter"])
    d_merged = max_diff(merged, ours["merged"])
    return {
        "checked_with": "transformers+peft" if hf else "tools/golden_model.py (transformers/peft not installed)",
        "versions": versions(),
        "positions": len(ours["adapter"]),
        "vocab": len(ours["adapter"][0]),
        "max_abs_diff_adapter": d_adapter,
        "max_abs_diff_merged": d_merged,
        # the adapter must matter, or equal logits would prove nothing
        "max_abs_diff_adapter_vs_base": max_diff(ours["adapter"], ours["base"]),
        "ok": d_adapter <= 1e-4 and d_merged <= 1e-4,
    }


def recipe_loss(recipe_dir, adapter_dir):
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    recipe = Path(recipe_dir).resolve()
    sys.path.insert(0, str(recipe))
    import train_trl  # the recipe's own data preparation (TRL is imported only inside its main())

    tok = AutoTokenizer.from_pretrained(train_trl.BASE_MODEL)
    template = train_trl.TEMPLATE_FILE.read_text() if train_trl.TEMPLATE_FILE.exists() else None
    rows = [json.loads(x) for x in train_trl.DATA.read_text().splitlines() if x.strip()]
    examples, skipped = train_trl.build_examples(rows, tok, template)
    model = AutoModelForCausalLM.from_pretrained(train_trl.BASE_MODEL, torch_dtype=torch.float32)
    model = PeftModel.from_pretrained(model, adapter_dir).eval()
    ce, n = 0.0, 0
    with torch.no_grad():
        for e in examples:
            ids = torch.tensor([e["input_ids"]])
            labels = torch.tensor(e["labels"][1:])
            logits = model(input_ids=ids).logits[0, :-1].float()
            ce += float(torch.nn.functional.cross_entropy(logits, labels, ignore_index=-100, reduction="sum"))
            n += int((labels != -100).sum())
    return {"loss": ce / n, "tokens": n, "rows": len(examples), "skipped": skipped, "versions": versions()}


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "logits":
        print(json.dumps(check_logits(sys.argv[2])))
    elif cmd == "recipe-loss":
        print(json.dumps(recipe_loss(sys.argv[2], sys.argv[3])))
    elif cmd == "versions":
        print(json.dumps(versions()))
    else:
        sys.exit(f"unknown command {cmd}")
