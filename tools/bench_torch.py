# PyTorch reference for `npm run bench` (tools/bench.ts) and the GPU runner (tools/gpu/): the same
# SmolLM2-135M- or Qwen2.5-0.5B-shaped model with random weights, LoRA on the chosen projections, one AdamW
# step per batch (HF-style shifted CE over all positions, grad clipping), and greedy decoding with a
# preallocated KV cache. The model is tools/golden_model.py's functional forward (eager attention); decoding
# reuses its blocks. --device cuda runs it eagerly on the GPU, --dtype bfloat16 with bf16 weights and LoRA.
# Prints one JSON object with --json.

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
    TARGETS, apply_rope, ce_sum, head_dim, linear, lora_key, module_path, rms_norm, rope_cos_sin,
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
QWEN25_05B = {
    "model_type": "qwen2",
    "hidden_size": 896,
    "intermediate_size": 4864,
    "num_hidden_layers": 24,
    "num_attention_heads": 14,
    "num_key_value_heads": 2,
    "head_dim": 64,
    "vocab_size": 151936,
    "rms_norm_eps": 1e-6,
    "rope_theta": 1000000.0,
    "tie_word_embeddings": True,
}
SHAPES = {"smollm2-135m": SMOLLM2_135M, "qwen2.5-0.5b": QWEN25_05B}


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
        if cfg["model_type"] == "qwen2":  # q/k/v biases
            for mod in ("q_proj", "k_proj", "v_proj"):
                W[module_path(i, mod) + ".bias"] = torch.randn(shapes[mod][0], generator=g) * 0.02
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


def sync():
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        torch.cuda.synchronize()


def train_stepper(cfg, W, lora, batch, seq, g, device="cpu"):
    """A function running one optimizer step on fresh random rows: (seconds, loss)."""
    params = [p.requires_grad_(True) for p in lora["tensors"].values()]
    opt = torch.optim.AdamW(params, lr=2e-4, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)

    def step():
        ids = torch.randint(0, cfg["vocab_size"], (batch, seq), generator=g, device="cpu").to(device)
        sync()
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        ce, n = ce_sum(cfg, W, lora, (ids, ids))
        loss = ce / n
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        sync()
        return time.perf_counter() - t0, loss.item()

    return step


def bench_train(cfg, W, lora, batch, seq, steps, g, device="cpu"):
    """Seconds per optimizer step (after one warm-up step) and the losses."""
    step = train_stepper(cfg, W, lora, batch, seq, g, device)
    runs = [step() for _ in range(steps + 1)]
    for p in lora["tensors"].values():
        p.requires_grad_(False)
    return [t for t, _ in runs], [loss for _, loss in runs]


def serve_train(cfg, W, lora, batch, seq, g):
    """--serve-train: one optimizer step per line read on stdin, its JSON ({ms, loss}) on stdout, so that the
    caller can interleave these steps with its own (tools/bench-torch.ts): both sides then see the same box."""
    import sys

    step = train_stepper(cfg, W, lora, batch, seq, g)
    print(json.dumps({"ready": True, "torch_version": torch.__version__, "blas": blas_in_use(),
                      "threads": torch.get_num_threads()}), flush=True)
    for _ in sys.stdin:
        s, loss = step()
        print(json.dumps({"ms": s * 1e3, "loss": loss}), flush=True)


def decoder_step(cfg, W, cache, ids, start):
    """ids (b, n) at positions start.. -> logits of the last position; cache[i] = (k, v) (b, nKV, S, hd)."""
    nH, nKV, hd = cfg["num_attention_heads"], cfg["num_key_value_heads"], head_dim(cfg)
    eps = cfg["rms_norm_eps"]
    b, n = ids.shape
    end = start + n
    cos, sin = cache["cos"][start:end], cache["sin"][start:end]
    rep = nH // nKV
    x = W["model.embed_tokens.weight"][ids]  # (b, n, D)
    for i in range(cfg["num_hidden_layers"]):
        h = rms_norm(x, W[f"model.layers.{i}.input_layernorm.weight"], eps)
        q = linear(W, None, i, "q_proj", h).view(b, n, nH, hd).transpose(1, 2)
        k = linear(W, None, i, "k_proj", h).view(b, n, nKV, hd).transpose(1, 2)
        v = linear(W, None, i, "v_proj", h).view(b, n, nKV, hd).transpose(1, 2)
        q, k = apply_rope(q, cos, sin), apply_rope(k, cos, sin)
        K, V = cache[i]
        K[:, :, start:end] = k
        V[:, :, start:end] = v
        # GQA without copying the cache: query heads grouped by their kv head
        qg = q.reshape(b, nKV, rep * n, hd)
        s = (qg @ K[:, :, :end].transpose(2, 3)) * hd**-0.5  # (b, nKV, rep*n, end)
        if n > 1:
            future = torch.ones(n, end, dtype=torch.bool, device=s.device).triu(start + 1).repeat(rep, 1)
            s = s.masked_fill(future, torch.finfo(s.dtype).min)
        o = F.softmax(s, dim=-1) @ V[:, :, :end]  # (b, nKV, rep*n, hd)
        o = o.reshape(b, nH, n, hd).transpose(1, 2).reshape(b, n, nH * hd)
        x = x + linear(W, None, i, "o_proj", o)
        h = rms_norm(x, W[f"model.layers.{i}.post_attention_layernorm.weight"], eps)
        act = F.silu(linear(W, None, i, "gate_proj", h)) * linear(W, None, i, "up_proj", h)
        x = x + linear(W, None, i, "down_proj", act)
    x = rms_norm(x[:, -1:], W["model.norm.weight"], eps)
    return x @ W["model.embed_tokens.weight"].t()  # (b, 1, V)


@torch.inference_mode()
def generate(cfg, W, prompts, new_tokens):
    """Greedy generation of equal-length prompts side by side; returns (prefill s, decode s, ids per row)."""
    dev, dt = W["model.norm.weight"].device, W["model.norm.weight"].dtype
    b, S = len(prompts), len(prompts[0]) + new_tokens
    nKV, hd = cfg["num_key_value_heads"], head_dim(cfg)
    cos, sin = rope_cos_sin(cfg, S)
    cache = {"cos": cos.to(dev), "sin": sin.to(dev)}
    for i in range(cfg["num_hidden_layers"]):
        cache[i] = (torch.zeros(b, nKV, S, hd, device=dev, dtype=dt), torch.zeros(b, nKV, S, hd, device=dev, dtype=dt))
    sync()
    t0 = time.perf_counter()
    logits = decoder_step(cfg, W, cache, torch.tensor(prompts, device=dev), 0)
    nxt = logits[:, -1].argmax(-1)
    out = [nxt.tolist()]  # .tolist() waits for the GPU: the host needs each token, as in a chat
    t1 = time.perf_counter()
    for _ in range(new_tokens - 1):  # the first new token came from the prefill, as in our Generator
        pos = len(prompts[0]) + len(out) - 1
        logits = decoder_step(cfg, W, cache, nxt[:, None], pos)
        nxt = logits[:, -1].argmax(-1)
        out.append(nxt.tolist())
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
    ap.add_argument("--shape", choices=sorted(SHAPES), default="smollm2-135m")
    ap.add_argument("--layers", type=int, help="default: the shape's")
    ap.add_argument("--batch", type=int, default=2)
    ap.add_argument("--seq", type=int, default=128)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--new-tokens", type=int, default=32)
    ap.add_argument("--prompt", type=int, default=16)
    ap.add_argument("--decode-batch", default="1", help="comma-separated batch sizes, e.g. 1,2")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rank", type=int, default=8)
    ap.add_argument("--alpha", type=float, default=16)
    ap.add_argument("--targets", default="q_proj,v_proj")
    ap.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    ap.add_argument("--dtype", choices=["float32", "bfloat16"], default="float32")
    ap.add_argument("--no-train", action="store_true")
    ap.add_argument("--json", action="store_true", help="print one JSON object only")
    ap.add_argument("--serve-train", action="store_true", help="train steps on demand (see serve_train)")
    a = ap.parse_args()

    torch.set_num_threads(a.threads)
    base = SHAPES[a.shape]
    cfg = dict(base, num_hidden_layers=a.layers or base["num_hidden_layers"])
    targets = TARGETS if a.targets == "all-linear" else a.targets.split(",")
    dtype = getattr(torch, a.dtype)
    g = torch.Generator().manual_seed(0)  # numbers drawn on the CPU, then moved: the same model on any device
    W = {k: v.to(a.device, dtype) for k, v in make_weights(cfg, g).items()}
    lora = make_lora(cfg, W, a.rank, a.alpha, targets, g)
    lora["tensors"] = {k: v.to(a.device, dtype) for k, v in lora["tensors"].items()}
    if a.device == "cuda":
        # golden_model builds its masks and rotary tables with the default device
        torch.set_default_device("cuda")
        torch.cuda.reset_peak_memory_stats()

    if a.serve_train:
        return serve_train(cfg, W, lora, a.batch, a.seq, g)
    res = {"shape": a.shape, "layers": cfg["num_hidden_layers"], "device": a.device, "dtype": a.dtype}
    if not a.no_train:
        times, losses = bench_train(cfg, W, lora, a.batch, a.seq, a.steps, g, a.device)
        step_s = sum(times[1:]) / max(1, len(times) - 1)
        res.update({
            "train_tokens_per_s": a.batch * a.seq / step_s,
            "train_step_ms": step_s * 1e3,
            "train_first_step_ms": times[0] * 1e3,
            "train_losses": losses,
        })
        if a.device == "cuda":
            res["train_gpu_peak_mb"] = torch.cuda.max_memory_allocated() / 2**20

    decode = []
    for b in [int(x) for x in a.decode_batch.split(",")]:
        prompts = torch.randint(0, cfg["vocab_size"], (b, a.prompt), generator=g, device="cpu").tolist()
        generate(cfg, W, prompts, a.new_tokens)  # warm-up
        prefill_s, decode_s, _ = generate(cfg, W, prompts, a.new_tokens)
        steps = a.new_tokens - 1
        decode.append({"batch": b, "sampling": "greedy", "prefill_ms": prefill_s * 1e3,
                       "tokens_per_s": steps * b / decode_s, "ms_per_token": decode_s * 1e3 / steps})
    b1 = next((d for d in decode if d["batch"] == 1), decode[0])
    res.update({
        "prefill_ms": b1["prefill_ms"],
        "decode_tokens_per_s": b1["tokens_per_s"],
        "decode_ms_per_token": b1["ms_per_token"],
        "decode": decode,
        "threads": torch.get_num_threads(),
        "torch_version": torch.__version__,
        "blas": blas_in_use(),
        "omp_wait_policy": os.environ["OMP_WAIT_POLICY"],
    })
    if a.device == "cuda":
        res["gpu"] = torch.cuda.get_device_name(0)
        res["gpu_peak_mb"] = torch.cuda.max_memory_allocated() / 2**20
    if a.json:
        print(json.dumps(res))
    else:
        for k, v in res.items():
            print(f"{k:22} {v}")


if __name__ == "__main__":
    main()
