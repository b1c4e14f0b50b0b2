# PyTorch CPU reference for `npm run bench` (tools/bench.ts): the same Llama-shaped model with random
# weights, float32, LoRA on the chosen projections, one AdamW step per batch (HF-style shifted CE over all
# positions, grad clipping), and greedy batch-1 decoding with a preallocated KV cache. The model is
# tools/golden_model.py's functional forward; decoding reuses its blocks. Prints one JSON object with --json.

import argparse
import json
import math
import os
import time

# libgomp's threads spin after each parallel region while OpenBLAS's own pthreads want the same cores:
# with the default policy a 30-layer train step took 4.3 s on a 2-core box, 1.3-1.7 s with PASSIVE.
# It must be set before torch loads.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from golden_model import (  # noqa: E402
    apply_rope, ce_sum, head_dim, linear, lora_key, module_path, rms_norm, rope_cos_sin,
)

SMOLLM2_135M = {
    "model_type": "llama",
    "hidden_size": 576,
    "intermediate_size": 1536,
    "num_hidden_layers": 30,
    "num_attention_heads": 9,
    "num_key_value_heads": 3,
    "head_dim": 64,
    "vocab_size": 49152,
    "rms_norm_eps": 1e-5,
    "rope_theta": 10000.0,
    "tie_word_embeddings": True,
}


def make_weights(cfg, g):
    """HF-named float32 weights ~N(0, 0.02), norms 1 (shapes as our expectedWeights)."""
    D, V, I = cfg["hidden_size"], cfg["vocab_size"], cfg["intermediate_size"]
    q, kv = cfg["num_attention_heads"] * head_dim(cfg), cfg["num_key_value_heads"] * head_dim(cfg)
    shapes = {"q_proj": (q, D), "k_proj": (kv, D), "v_proj": (kv, D), "o_proj": (D, q),
              "gate_proj": (I, D), "up_proj": (I, D), "down_proj": (D, I)}
    W = {"model.embed_tokens.weight": torch.randn(V, D, generator=g) * 0.02}
    for i in range(cfg["num_hidden_layers"]):
        W[f"model.layers.{i}.input_layernorm.weight"] = torch.ones(D)
        W[f"model.layers.{i}.post_attention_layernorm.weight"] = torch.ones(D)
        for mod, shape in shapes.items():
            W[module_path(i, mod) + ".weight"] = torch.randn(*shape, generator=g) * 0.02
    W["model.norm.weight"] = torch.ones(D)
    return W


def make_lora(cfg, W, rank, alpha, targets, g):
    """PEFT init: A ~ U(-1/sqrt(in), 1/sqrt(in)), B = 0 (our initLora does the same)."""
    t = {}
    for i in range(cfg["num_hidden_layers"]):
        for mod in targets:
            out_f, in_f = W[module_path(i, mod) + ".weight"].shape
            bound = 1.0 / math.sqrt(in_f)
            t[lora_key(i, mod, "A")] = (torch.rand(rank, in_f, generator=g) * 2 - 1) * bound
            t[lora_key(i, mod, "B")] = torch.zeros(out_f, rank)
    return {"tensors": t, "scale": alpha / rank}


def bench_train(cfg, W, lora, batch, seq, steps, g):
    """Seconds per optimizer step (after one warm-up step) and the losses."""
    params = [p.requires_grad_(True) for p in lora["tensors"].values()]
    opt = torch.optim.AdamW(params, lr=2e-4, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)
    times, losses = [], []
    for _ in range(steps + 1):
        ids = torch.randint(0, cfg["vocab_size"], (batch, seq), generator=g)
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        ce, n = ce_sum(cfg, W, lora, (ids, ids))
        loss = ce / n
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        times.append(time.perf_counter() - t0)
        losses.append(loss.item())
    for p in params:
        p.requires_grad_(False)
    return times, losses


def decoder_step(cfg, W, cache, ids, start):
    """ids (1, n) at positions start.. -> logits of the last position; cache[i] = (k, v) (1, nKV, S, hd)."""
    nH, nKV, hd = cfg["num_attention_heads"], cfg["num_key_value_heads"], head_dim(cfg)
    eps = cfg["rms_norm_eps"]
    n = ids.shape[1]
    end = start + n
    cos, sin = cache["cos"][start:end], cache["sin"][start:end]
    rep = nH // nKV
    x = W["model.embed_tokens.weight"][ids]  # (1, n, D)
    for i in range(cfg["num_hidden_layers"]):
        h = rms_norm(x, W[f"model.layers.{i}.input_layernorm.weight"], eps)
        q = linear(W, None, i, "q_proj", h).view(1, n, nH, hd).transpose(1, 2)
        k = linear(W, None, i, "k_proj", h).view(1, n, nKV, hd).transpose(1, 2)
        v = linear(W, None, i, "v_proj", h).view(1, n, nKV, hd).transpose(1, 2)
        q, k = apply_rope(q, cos, sin), apply_rope(k, cos, sin)
        K, V = cache[i]
        K[:, :, start:end] = k
        V[:, :, start:end] = v
        # GQA without copying the cache: query heads grouped by their kv head
        qg = q.reshape(1, nKV, rep * n, hd)
        s = (qg @ K[:, :, :end].transpose(2, 3)) * hd**-0.5  # (1, nKV, rep*n, end)
        if n > 1:
            future = torch.ones(n, end, dtype=torch.bool).triu(start + 1).repeat(rep, 1)
            s = s.masked_fill(future, torch.finfo(s.dtype).min)
        o = F.softmax(s, dim=-1) @ V[:, :, :end]  # (1, nKV, rep*n, hd)
        o = o.reshape(1, nH, n, hd).transpose(1, 2).reshape(1, n, nH * hd)
        x = x + linear(W, None, i, "o_proj", o)
        h = rms_norm(x, W[f"model.layers.{i}.post_attention_layernorm.weight"], eps)
        act = F.silu(linear(W, None, i, "gate_proj", h)) * linear(W, None, i, "up_proj", h)
        x = x + linear(W, None, i, "down_proj", act)
    x = rms_norm(x[:, -1:], W["model.norm.weight"], eps)
    return x @ W["model.embed_tokens.weight"].t()  # (1, 1, V)


@torch.inference_mode()
def generate(cfg, W, prompt, new_tokens):
    """Greedy batch-1 generation; returns (prefill seconds, decode seconds, ids)."""
    S = len(prompt) + new_tokens
    nKV, hd = cfg["num_key_value_heads"], head_dim(cfg)
    cos, sin = rope_cos_sin(cfg, S)
    cache = {"cos": cos, "sin": sin}
    for i in range(cfg["num_hidden_layers"]):
        cache[i] = (torch.zeros(1, nKV, S, hd), torch.zeros(1, nKV, S, hd))
    t0 = time.perf_counter()
    logits = decoder_step(cfg, W, cache, torch.tensor([prompt]), 0)
    out = [int(logits[0, -1].argmax())]
    t1 = time.perf_counter()
    for _ in range(new_tokens - 1):  # the first new token came from the prefill, as in our Generator
        pos = len(prompt) + len(out) - 1
        logits = decoder_step(cfg, W, cache, torch.tensor([[out[-1]]]), pos)
        out.append(int(logits[0, -1].argmax()))
    return t1 - t0, time.perf_counter() - t1, out


def blas_in_use():
    """The BLAS library actually mapped into this process (Debian's torch uses the system one)."""
    try:
        with open("/proc/self/maps") as f:
            libs = {line.split()[-1].rsplit("/", 1)[-1] for line in f if "blas" in line.lower()}
        return ",".join(sorted(libs)) or "unknown"
    except OSError:
        return "unknown"


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--layers", type=int, default=30)
    ap.add_argument("--batch", type=int, default=2)
    ap.add_argument("--seq", type=int, default=128)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--new-tokens", type=int, default=32)
    ap.add_argument("--prompt", type=int, default=16)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rank", type=int, default=8)
    ap.add_argument("--alpha", type=float, default=16)
    ap.add_argument("--targets", default="q_proj,v_proj")
    ap.add_argument("--json", action="store_true", help="print one JSON object only")
    a = ap.parse_args()

    torch.set_num_threads(a.threads)
    cfg = dict(SMOLLM2_135M, num_hidden_layers=a.layers)
    g = torch.Generator().manual_seed(0)
    W = make_weights(cfg, g)
    lora = make_lora(cfg, W, a.rank, a.alpha, a.targets.split(","), g)

    times, losses = bench_train(cfg, W, lora, a.batch, a.seq, a.steps, g)
    step_s = sum(times[1:]) / max(1, len(times) - 1)

    prompt = torch.randint(0, cfg["vocab_size"], (a.prompt,), generator=g).tolist()
    generate(cfg, W, prompt, a.new_tokens)  # warm-up
    prefill_s, decode_s, _ = generate(cfg, W, prompt, a.new_tokens)
    decoded = a.new_tokens - 1

    res = {
        "train_tokens_per_s": a.batch * a.seq / step_s,
        "train_step_ms": step_s * 1e3,
        "train_first_step_ms": times[0] * 1e3,
        "train_losses": losses,
        "prefill_ms": prefill_s * 1e3,
        "decode_tokens_per_s": decoded / decode_s,
        "decode_ms_per_token": decode_s * 1e3 / decoded,
        "threads": torch.get_num_threads(),
        "torch_version": torch.__version__,
        "blas": blas_in_use(),
        "omp_wait_policy": os.environ["OMP_WAIT_POLICY"],
    }
    if a.json:
        print(json.dumps(res))
    else:
        for k, v in res.items():
            print(f"{k:22} {v}")


if __name__ == "__main__":
    main()
