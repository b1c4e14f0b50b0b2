# Writes the golden files in tests/fixtures/golden/ that the TypeScript engine is tested against:
# tiny random HF-format models (llama with llama3 rope scaling, tied SmolLM2-style llama, qwen2 with
# q/k/v bias and rsLoRA, qwen3 with q/k-norm and explicit head_dim), PEFT adapters, losses, LoRA
# gradients and adapters after AdamW steps. Deterministic: `/usr/bin/python3 tools/golden.py`
# (torch CPU + numpy). Layout and meaning of every file: tests/fixtures/golden/README.md.

import json
import math
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # keep tools/ free of __pycache__
import golden_model as gm  # noqa: E402

ROOT = os.path.normpath(os.path.join(HERE, "..", "tests", "fixtures", "golden"))
LR, WEIGHT_DECAY, STEPS, ACCUM_STEPS = 0.01, 0.1, 3, 2
LORA_R, LORA_ALPHA = 4, 8


def llama_config(vocab, hidden, inter, heads, kv, theta, tied, eps=1e-5, rope_scaling=None, hd=None, eos=2):
    cfg = {
        "architectures": ["LlamaForCausalLM"],
        "attention_bias": False,
        "attention_dropout": 0.0,
        "bos_token_id": 1,
        "eos_token_id": eos,
        "hidden_act": "silu",
        "hidden_size": hidden,
        "initializer_range": 0.02,
        "intermediate_size": inter,
        "max_position_embeddings": 256,
        "mlp_bias": False,
        "model_type": "llama",
        "num_attention_heads": heads,
        "num_hidden_layers": 2,
        "num_key_value_heads": kv,
        "pretraining_tp": 1,
        "rms_norm_eps": eps,
        "rope_scaling": rope_scaling,
        "rope_theta": theta,
        "tie_word_embeddings": tied,
        "torch_dtype": "float32",
        "transformers_version": "4.51.0",
        "use_cache": True,
        "vocab_size": vocab,
    }
    if hd is not None:
        cfg["head_dim"] = hd
    return cfg


def qwen_config(kind, vocab, hidden, inter, heads, kv, tied, hd=None):
    cfg = llama_config(vocab, hidden, inter, heads, kv, 1000000.0, tied, eps=1e-6, hd=hd)
    for k in ("mlp_bias", "pretraining_tp"):
        del cfg[k]
    cfg.update(
        architectures=["Qwen2ForCausalLM" if kind == "qwen2" else "Qwen3ForCausalLM"],
        model_type=kind,
        max_window_layers=2,
        sliding_window=256,
        use_sliding_window=False,
    )
    if kind == "qwen2":
        del cfg["attention_bias"]  # qwen2 always has q/k/v bias; its config has no such key
    return cfg


# Seeds are chosen so that a float64 rerun agrees closely (see check_float64_agreement).
CASES = [
    dict(
        name="llama",
        seed=101,
        rslora=False,
        lengths=[9, 12, 6, 10],
        prompt=[3, 2, 4, 2],
        about="llama, untied lm_head, llama3 rope scaling, GQA 4/2, eos list",
        cfg=llama_config(128, 48, 96, 4, 2, 500000.0, False, hd=12, eos=[2, 3], rope_scaling={
            "factor": 8.0,
            "high_freq_factor": 4.0,
            "low_freq_factor": 1.0,
            "original_max_position_embeddings": 64,
            "rope_type": "llama3",
        }),
    ),
    dict(
        name="llama_tied",
        seed=202,
        rslora=False,
        lengths=[7, 11, 5, 9],
        prompt=[2, 4, 2, 3],
        about="SmolLM2-style llama, tied embeddings, no rope scaling; also BF16 weights, grad accumulation",
        cfg=llama_config(96, 32, 64, 4, 2, 10000.0, True),
    ),
    dict(
        name="qwen2",
        seed=307,
        rslora=True,
        lengths=[10, 6, 12, 8],
        prompt=[4, 2, 3, 2],
        about="qwen2, q/k/v bias, tied embeddings, rsLoRA adapter",
        cfg=qwen_config("qwen2", 112, 64, 128, 4, 2, True),
    ),
    dict(
        name="qwen3",
        seed=409,
        rslora=False,
        lengths=[8, 12, 5, 11],
        prompt=[2, 3, 4, 2],
        about="qwen3, head_dim 16 != hidden/heads 12, q_norm/k_norm, untied lm_head",
        cfg=qwen_config("qwen3", 128, 48, 96, 4, 2, False, hd=16),
    ),
]


# ---------------------------------------------------------------- data


def make_rows(case, cfg, g):
    """Rows start with BOS; ids in [3, vocab) so pad id 0 never appears as a real token; the first
    `prompt` labels are -100 (the prompt part)."""
    rows = []
    for n, p in zip(case["lengths"], case["prompt"]):
        ids = [cfg["bos_token_id"]] + torch.randint(3, cfg["vocab_size"], (n - 1,), generator=g).tolist()
        rows.append({"input_ids": ids, "labels": [-100] * p + ids[p:]})
    return rows


# ---------------------------------------------------------------- writing


def write_json(path, obj, sort_keys=False):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(obj, f, indent=2, sort_keys=sort_keys)
        f.write("\n")


def write_model(folder, cfg, W):
    os.makedirs(folder, exist_ok=True)
    write_json(os.path.join(folder, "config.json"), cfg, sort_keys=True)
    gm.save_safetensors(os.path.join(folder, "model.safetensors"), W, {"format": "pt"})


def write_adapter(folder, acfg, lora):
    os.makedirs(folder, exist_ok=True)
    write_json(os.path.join(folder, "adapter_config.json"), acfg, sort_keys=True)
    gm.save_safetensors(os.path.join(folder, "adapter_model.safetensors"), lora["tensors"], {"format": "pt"})


def clone(lora, dtype=None):
    return {"tensors": {k: v.detach().clone().to(dtype or v.dtype) for k, v in lora["tensors"].items()},
            "scale": lora["scale"]}


# ---------------------------------------------------------------- checks


def check_close(what, got, want, rtol, atol=0.0):
    ok = abs(got - want) <= atol + rtol * abs(want)
    print(f"  {'ok ' if ok else 'BAD'} {what}: {got:.9g} vs {want:.9g}")
    assert ok, what


def check_llama3_inv_freq(cfg):
    """Meta's reference apply_scaling, per frequency in float64, against our tensor version."""
    rs = cfg["rope_scaling"]
    hd = gm.head_dim(cfg)
    ours = gm.rope_inv_freq(cfg)
    low_w = rs["original_max_position_embeddings"] / rs["low_freq_factor"]
    high_w = rs["original_max_position_embeddings"] / rs["high_freq_factor"]
    kinds = []
    for j in range(hd // 2):
        f = 1.0 / cfg["rope_theta"] ** (2 * j / hd)
        wl = 2 * math.pi / f
        if wl < high_w:
            want, kind = f, "kept"
        elif wl > low_w:
            want, kind = f / rs["factor"], "scaled"
        else:
            s = (rs["original_max_position_embeddings"] / wl - rs["low_freq_factor"]) / (
                rs["high_freq_factor"] - rs["low_freq_factor"])
            want, kind = (1 - s) * f / rs["factor"] + s * f, "smoothed"
        kinds.append(kind)
        print(f"  inv_freq[{j}] = {ours[j].item():.8g} (unscaled {f:.8g}, {kind})")
        check_close(f"inv_freq[{j}]", ours[j].item(), want, 1e-6)
    assert "scaled" in kinds and "smoothed" in kinds and "kept" in kinds, "llama3 scaling not exercised"


def check_finite_differences(cfg, W, lora, batch, grads32):
    """Central differences of the float64 loss for a few LoRA entries vs float64 and float32 autograd."""
    W64 = {k: v.double() for k, v in W.items()}
    l64 = clone(lora, torch.float64)
    for v in l64["tensors"].values():
        v.requires_grad_(True)
    gm.mean_loss(cfg, W64, l64, batch).backward()
    last = cfg["num_hidden_layers"] - 1
    picks = [(gm.lora_key(0, "q_proj", "A"), (1, 3)), (gm.lora_key(0, "v_proj", "B"), (2, 0)),
             (gm.lora_key(last, "down_proj", "A"), (0, 5)), (gm.lora_key(last, "o_proj", "B"), (4, 3))]
    h = 1e-6
    with torch.no_grad():
        for key, idx in picks:
            p = l64["tensors"][key]
            old = p[idx].item()
            p[idx] = old + h
            up = gm.mean_loss(cfg, W64, l64, batch).item()
            p[idx] = old - h
            down = gm.mean_loss(cfg, W64, l64, batch).item()
            p[idx] = old
            fd = (up - down) / (2 * h)
            short = key.replace("base_model.model.model.", "")
            check_close(f"fd f64 {short}{list(idx)}", p.grad[idx].item(), fd, 1e-6, 1e-10)
            check_close(f"f32 autograd {short}{list(idx)}", grads32[key][idx].item(), fd, 2e-3, 1e-7)


def check_float64_agreement(cfg, W, lora, micro_batches, train_args, steps32, after32):
    """Reruns the AdamW steps in float64. Adam divides by sqrt(v): a gradient entry near zero, or m
    near cancellation, amplifies float noise, so golden numbers only make a good oracle if float64
    agrees with them closely. Returns the largest differences (kept in the golden JSON)."""
    W64 = {k: v.double() for k, v in W.items()}
    l64 = clone(lora, torch.float64)
    steps64 = gm.train(cfg, W64, l64, micro_batches, len(steps32), *train_args)
    diffs = {
        "loss_max_rel": max(abs(a["loss"] - b["loss"]) / b["loss"] for a, b in zip(steps32, steps64)),
        "grad_norm_max_rel": max(abs(a["grad_norm"] - b["grad_norm"]) / b["grad_norm"]
                                 for a, b in zip(steps32, steps64)),
        "adapter_after_max_abs": max((after32["tensors"][k].double() - v).abs().max().item()
                                     for k, v in l64["tensors"].items()),
    }
    print("  float64 rerun:", {k: f"{v:.1e}" for k, v in diffs.items()})
    assert diffs["loss_max_rel"] < 1e-6 and diffs["grad_norm_max_rel"] < 1e-6, "ill-conditioned case"
    assert diffs["adapter_after_max_abs"] < 5e-6, "ill-conditioned case: pick another seed"
    return {k: float(f"{v:.2g}") for k, v in diffs.items()}


# ---------------------------------------------------------------- one case


def loss_and_grads(cfg, W, lora, batch):
    work = clone(lora)
    for v in work["tensors"].values():
        v.requires_grad_(True)
    loss = gm.mean_loss(cfg, W, work, batch)
    loss.backward()
    return loss.item(), {k: v.grad.detach().clone() for k, v in work["tensors"].items()}


def run_case(case):
    name, cfg = case["name"], case["cfg"]
    out = os.path.join(ROOT, name)
    print(f"== {name}: {case['about']}")
    g = torch.Generator().manual_seed(case["seed"])
    W = gm.make_weights(cfg, g)
    rows = make_rows(case, cfg, g)
    lcfg = {"r": LORA_R, "lora_alpha": LORA_ALPHA, "use_rslora": case["rslora"]}
    acfg = gm.adapter_config(case["name"], lcfg)
    lora = gm.make_adapter(cfg, W, lcfg, g)
    batch = gm.collate(rows)
    tokens = int((batch[1][:, 1:] != -100).sum())

    write_model(os.path.join(out, "model"), cfg, W)
    with open(os.path.join(out, "data.jsonl"), "w") as f:
        for r in rows:
            f.write(json.dumps(r, separators=(",", ":")) + "\n")
    write_adapter(os.path.join(out, "adapter_init"), acfg, lora)

    # round trip through our own files, so the numbers below come from exactly what was written
    W = gm.load_safetensors(os.path.join(out, "model", "model.safetensors"))
    lora = {"tensors": gm.load_safetensors(os.path.join(out, "adapter_init", "adapter_model.safetensors")),
            "scale": gm.lora_scale(lcfg)}

    with torch.no_grad():
        loss_base = gm.mean_loss(cfg, W, None, batch).item()
        zero = gm.make_adapter(cfg, W, lcfg, torch.Generator().manual_seed(0), zero_b=True)
        zero_loss = gm.mean_loss(cfg, W, zero, batch).item()
        alone = sum(gm.ce_sum(cfg, W, lora, gm.collate([r]))[0].item() for r in rows)
        padded = gm.ce_sum(cfg, W, lora, batch)[0].item()
    check_close("zero-B adapter loss == base loss", zero_loss, loss_base, 0)
    check_close("Σ CE of rows alone == Σ CE of the padded batch", alone, padded, 1e-6)
    if cfg.get("rope_scaling"):
        check_llama3_inv_freq(cfg)
    loss_init, grads = loss_and_grads(cfg, W, lora, batch)
    gm.save_safetensors(os.path.join(out, "grads.safetensors"), grads, {"format": "pt"})
    check_finite_differences(cfg, W, lora, batch, grads)
    norm1 = torch.norm(torch.stack([torch.norm(v) for v in grads.values()])).item()
    max_grad_norm = float(f"{0.5 * norm1:.2g}")  # clipping active from step 1

    trained = clone(lora)
    steps = gm.train(cfg, W, trained, [batch], STEPS, LR, WEIGHT_DECAY, max_grad_norm)
    check_close("step 1 loss == loss_init", steps[0]["loss"], loss_init, 1e-6)
    check_close("step 1 grad norm", steps[0]["grad_norm"], norm1, 1e-5)
    assert steps[0]["grad_norm"] > max_grad_norm, "clipping must be active on step 1"
    f64 = check_float64_agreement(cfg, W, lora, [batch], (LR, WEIGHT_DECAY, max_grad_norm), steps, trained)
    write_adapter(os.path.join(out, "adapter_after"), acfg, trained)
    print(f"  loss_base {loss_base:.6f} loss_init {loss_init:.6f}", [round(s["loss"], 6) for s in steps])

    train_cfg = {"lr": LR, "weight_decay": WEIGHT_DECAY, "max_grad_norm": max_grad_norm,
                 "betas": [0.9, 0.999], "eps": 1e-8, "steps": STEPS, "batch": "all rows in one micro-batch"}
    golden = {
        "case": name,
        "about": case["about"],
        "loss_base": loss_base,
        "loss_init": loss_init,
        "tokens": tokens,
        "rows": len(rows),
        "lora": {"r": LORA_R, "lora_alpha": LORA_ALPHA, "use_rslora": case["rslora"],
                 "scale": gm.lora_scale(lcfg), "target_modules": sorted(gm.TARGETS)},
        "rope_inv_freq": gm.rope_inv_freq(cfg).tolist(),
        "train": train_cfg,
        "steps": steps,
        "float64_agreement": f64,
    }
    extras = []
    if name == "llama_tied":
        golden["loss_base_bf16"] = write_bf16(out, cfg, W, batch)
        write_accum(out, cfg, W, lora, acfg, rows, train_cfg, steps[0])
        extras = ["model_bf16", "accum"]
    write_json(os.path.join(out, "golden.json"), golden)
    return {"name": name, "model_type": cfg["model_type"], "about": case["about"], "extras": extras}


def write_bf16(out, cfg, W, batch):
    """Same weights rounded to BF16 (round to nearest even); reference loss from the rounded weights
    upcast to float32, no adapter."""
    cfg16 = dict(cfg, torch_dtype="bfloat16")
    W16 = {k: v.to(torch.bfloat16) for k, v in W.items()}
    write_model(os.path.join(out, "model_bf16"), cfg16, W16)
    back = gm.load_safetensors(os.path.join(out, "model_bf16", "model.safetensors"))
    for k, v in W16.items():
        assert torch.equal(back[k], v.float()), k
    with torch.no_grad():
        loss = gm.mean_loss(cfg, back, None, batch).item()
    print(f"  bf16 loss_base {loss:.6f}")
    return loss


def write_accum(out, cfg, W, lora, acfg, rows, train_cfg, full_step1):
    """Gradient accumulation: rows [0,1] and [2,3] as two micro-batches (each padded to its own longest
    row), loss Σ CE over both / total count; ACCUM_STEPS optimizer steps from adapter_init."""
    split = [[0, 1], [2, 3]]
    mbs = [gm.collate([rows[i] for i in idx]) for idx in split]
    counts = [int((lab[:, 1:] != -100).sum()) for _, lab in mbs]
    trained = clone(lora)
    steps = gm.train(cfg, W, trained, mbs, ACCUM_STEPS, train_cfg["lr"], train_cfg["weight_decay"],
                     train_cfg["max_grad_norm"])
    check_close("accum step 1 loss == one-batch loss", steps[0]["loss"], full_step1["loss"], 1e-6)
    check_close("accum step 1 grad norm == one-batch", steps[0]["grad_norm"], full_step1["grad_norm"], 1e-5)
    train_args = (train_cfg["lr"], train_cfg["weight_decay"], train_cfg["max_grad_norm"])
    f64 = check_float64_agreement(cfg, W, lora, mbs, train_args, steps, trained)
    write_adapter(os.path.join(out, "adapter_after_accum"), acfg, trained)
    write_json(os.path.join(out, "accum.json"), {
        "grad_accum": 2,
        "micro_batches": split,
        "micro_batch_tokens": counts,
        "tokens": sum(counts),
        "train": dict(train_cfg, steps=ACCUM_STEPS, batch="micro_batches, accumulated per optimizer step"),
        "steps": steps,
        "float64_agreement": f64,
    })


def main():
    torch.set_num_threads(1)  # reproducible float summation order
    torch.manual_seed(0)
    os.makedirs(ROOT, exist_ok=True)
    index = [run_case(c) for c in CASES]
    write_json(os.path.join(ROOT, "index.json"), {"generator": "tools/golden.py", "cases": index})
    size = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(ROOT) for f in fs)
    print(f"wrote {ROOT} ({size / 1024:.0f} KiB)")


if __name__ == "__main__":
    main()
