# Reference side of `npm run bench:memory`: writes random models with real checkpoints' shapes
# (Qwen2.5-0.5B, Llama-3.2-1B; streamed to disk tensor by tensor, F32 files over 4 GB included) and computes
# PyTorch's loss — and, for `train`, two AdamW steps from a nonzero adapter — on the same rows.
#   python3 tools/bench_memory.py make --preset qwen2.5-0.5b --dtype BF16 --out DIR
#   python3 tools/bench_memory.py loss --model DIR --data FILE
#   python3 tools/bench_memory.py train --model DIR --data FILE --adapter-out DIR --after-out DIR --lr 1e-3
import argparse
import json
import os
import struct
import sys

import torch

sys.path.insert(0, os.path.dirname(__file__))
import golden_model as gm  # noqa: E402

PRESETS = {
    # Qwen/Qwen2.5-0.5B config.json (q/k/v bias, tied head)
    "qwen2.5-0.5b": dict(model_type="qwen2", architectures=["Qwen2ForCausalLM"], hidden_size=896,
                         intermediate_size=4864, num_hidden_layers=24, num_attention_heads=14,
                         num_key_value_heads=2, head_dim=64, vocab_size=151936, max_position_embeddings=32768,
                         rope_theta=1000000.0, rms_norm_eps=1e-6, tie_word_embeddings=True, rope_scaling=None),
    # meta-llama/Llama-3.2-1B config.json (llama3 rope scaling, GQA, tied head)
    "llama-3.2-1b": dict(model_type="llama", architectures=["LlamaForCausalLM"], hidden_size=2048,
                         intermediate_size=8192, num_hidden_layers=16, num_attention_heads=32,
                         num_key_value_heads=8, head_dim=64, vocab_size=128256, max_position_embeddings=131072,
                         rope_theta=500000.0, rms_norm_eps=1e-5, tie_word_embeddings=True,
                         rope_scaling=dict(rope_type="llama3", factor=32.0, low_freq_factor=1.0,
                                           high_freq_factor=4.0, original_max_position_embeddings=8192)),
}


def shapes(cfg):
    D, V, I = cfg["hidden_size"], cfg["vocab_size"], cfg["intermediate_size"]
    nH, nKV, hd = cfg["num_attention_heads"], cfg["num_key_value_heads"], cfg["head_dim"]
    out = {"model.embed_tokens.weight": (V, D), "model.norm.weight": (D,)}
    proj = {"q_proj": (nH * hd, D), "k_proj": (nKV * hd, D), "v_proj": (nKV * hd, D), "o_proj": (D, nH * hd),
            "gate_proj": (I, D), "up_proj": (I, D), "down_proj": (D, I)}
    for i in range(cfg["num_hidden_layers"]):
        out[f"model.layers.{i}.input_layernorm.weight"] = (D,)
        out[f"model.layers.{i}.post_attention_layernorm.weight"] = (D,)
        for mod, s in proj.items():
            out[gm.module_path(i, mod) + ".weight"] = s
            if cfg["model_type"] == "qwen2" and mod in ("q_proj", "k_proj", "v_proj"):
                out[gm.module_path(i, mod) + ".bias"] = (s[0],)
    if not cfg["tie_word_embeddings"]:
        out["lm_head.weight"] = (V, D)
    return out


def make(args):
    """Random weights as a real checkpoint is initialised (N(0, 0.02), norms 1), written one tensor at a time."""
    cfg = dict(PRESETS[args.preset])
    cfg["torch_dtype"] = "bfloat16" if args.dtype == "BF16" else "float32"
    os.makedirs(args.out, exist_ok=True)
    g = torch.Generator().manual_seed(args.seed)
    names = sorted(shapes(cfg))
    size = 2 if args.dtype == "BF16" else 4
    header, offset = {}, 0
    for n in names:
        count = 1
        for d in shapes(cfg)[n]:
            count *= d
        header[n] = {"dtype": args.dtype, "shape": list(shapes(cfg)[n]), "data_offsets": [offset, offset + count * size]}
        offset += count * size
    text = json.dumps(header, separators=(",", ":"), sort_keys=True).encode()
    text += b" " * (-len(text) % 8)
    with open(os.path.join(args.out, "model.safetensors"), "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for n in names:
            s = shapes(cfg)[n]
            t = torch.ones(s) if n.endswith("norm.weight") else torch.randn(*s, generator=g) * 0.02
            dtype, data = gm._to_bytes(t.to(torch.bfloat16) if args.dtype == "BF16" else t)
            f.write(data)
    with open(os.path.join(args.out, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)


def rows(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def loss(args):
    cfg = json.load(open(os.path.join(args.model, "config.json")))
    W = gm.load_safetensors(os.path.join(args.model, "model.safetensors"))
    with torch.no_grad():
        ce, n = gm.ce_sum(cfg, W, None, gm.collate(rows(args.data)))
    print(json.dumps({"loss": float(ce) / n, "tokens": n}))


def train(args):
    """A nonzero adapter (written as PEFT for our engine) and PyTorch's adapter after two AdamW steps."""
    cfg = json.load(open(os.path.join(args.model, "config.json")))
    W = gm.load_safetensors(os.path.join(args.model, "model.safetensors"))
    lcfg = {"r": args.rank, "lora_alpha": args.alpha, "use_rslora": False}
    lora = gm.make_adapter(cfg, W, lcfg, torch.Generator().manual_seed(1))
    for d, tensors in ((args.adapter_out, lora["tensors"]),):
        os.makedirs(d, exist_ok=True)
        gm.save_safetensors(os.path.join(d, "adapter_model.safetensors"), tensors)
        json.dump(gm.adapter_config(args.model, lcfg), open(os.path.join(d, "adapter_config.json"), "w"))
    batch = gm.collate(rows(args.data))
    if args.float64:
        # the same two steps in float64: how far float32 AdamW itself lands from exact arithmetic
        W = {k: v.double() for k, v in W.items()}
        lora["tensors"] = {k: v.double() for k, v in lora["tensors"].items()}
    metrics = gm.train(cfg, W, lora, [batch], 2, args.lr, 0.0, 1.0)
    os.makedirs(args.after_out, exist_ok=True)
    after = {k: v.float() for k, v in lora["tensors"].items()}
    gm.save_safetensors(os.path.join(args.after_out, "adapter_model.safetensors"), after)
    print(json.dumps({"steps": metrics}))


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("make")
    m.add_argument("--preset", choices=PRESETS, required=True)
    m.add_argument("--dtype", choices=["F32", "BF16"], required=True)
    m.add_argument("--out", required=True)
    m.add_argument("--seed", type=int, default=0)
    lo = sub.add_parser("loss")
    lo.add_argument("--model", required=True)
    lo.add_argument("--data", required=True)
    t = sub.add_parser("train")
    for k in ("--model", "--data", "--adapter-out", "--after-out"):
        t.add_argument(k, required=True)
    t.add_argument("--rank", type=int, default=16)
    t.add_argument("--alpha", type=float, default=32)
    t.add_argument("--lr", type=float, default=1e-3)
    t.add_argument("--float64", action="store_true", help="train in float64 (the adapter is saved as float32)")
    a = p.parse_args()
    {"make": make, "loss": loss, "train": train}[a.cmd](a)


if __name__ == "__main__":
    main()
