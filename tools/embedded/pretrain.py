#!/usr/bin/python3
"""Pretrains the studio's embedded model (tools/embedded/model.py) on the WordNet token stream that
tokenize.ts writes, and saves it as a Hugging Face folder. Seeded and resumable: the batch of step s depends
only on (seed, s), the learning-rate schedule only on max_steps, and a checkpoint holds model, optimizer and
step, so a stopped run continues exactly where it left off.

  /usr/bin/python3 tools/embedded/pretrain.py --data tools/embedded/_data --out DIR [--resume]
      [--max-steps N | --time-budget SECONDS] [--batch 128 --seq 256 --lr 3e-3 --seed 0]

With --time-budget and no --max-steps, max_steps is set from the speed of the first 30 steps so training ends
inside the budget (the value is saved in the checkpoint and metrics, so a rerun can pass it). Prints the
held-out loss (documents about words no training document is about) as it goes.
"""

import argparse
import json
import lzma
import math
import os
import shutil
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import CONFIG, Qwen3  # noqa: E402


def load_u16(path):
    if os.path.exists(path):
        return np.fromfile(path, dtype="<u2")
    with lzma.open(path + ".xz") as f:
        return np.frombuffer(f.read(), dtype="<u2")


def batch_at(stream, step, seed, batch, seq, device):
    g = torch.Generator().manual_seed(seed * 1_000_003 + step)
    starts = torch.randint(0, len(stream) - seq - 1, (batch,), generator=g).numpy()
    x = np.stack([stream[s : s + seq + 1] for s in starts]).astype(np.int64)
    return torch.from_numpy(x).to(device, non_blocking=True)


def lr_at(step, max_steps, peak, warmup):
    if step < warmup:
        return peak * step / warmup
    p = min(1.0, (step - warmup) / max(1, max_steps - warmup))
    return peak * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * p)))


@torch.no_grad()
def heldout_loss(model, stream, seq, device, windows=256, dtype=None):
    """Mean next-token loss over the first `windows` non-overlapping windows of the held-out stream."""
    model.eval()
    n = min(windows, (len(stream) - 1) // seq)
    tot, cnt = 0.0, 0
    for i in range(0, n, 32):
        x = np.stack([stream[j * seq : j * seq + seq + 1] for j in range(i, min(n, i + 32))]).astype(np.int64)
        x = torch.from_numpy(x).to(device)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=dtype is not None):
            logits = model(x[:, :-1]).float()
        tot += F.cross_entropy(logits.reshape(-1, logits.shape[-1]), x[:, 1:].reshape(-1), reduction="sum").item()
        cnt += x[:, 1:].numel()
    model.train()
    return tot / cnt


@torch.no_grad()
def sample_loss(model, docs, device):
    """Σ CE / Σ tokens over documents each run as its own sequence (the engine's eval on text rows)."""
    tot, cnt = 0.0, 0
    for ids in docs:
        x = torch.tensor([ids], device=device)
        logits = model(x[:, :-1]).float()
        tot += F.cross_entropy(logits[0], x[0, 1:], reduction="sum").item()
        cnt += len(ids) - 1
    return tot / cnt


def save_hf(model, out, data_dir, metrics):
    import golden_model  # tools/golden_model.py: the repo's safetensors writer

    os.makedirs(out, exist_ok=True)
    golden_model.save_safetensors(os.path.join(out, "model.safetensors"), model.hf_state(torch.bfloat16), {"format": "pt"})
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(CONFIG, f, indent=2)
        f.write("\n")
    gen = {"bos_token_id": CONFIG["bos_token_id"], "eos_token_id": [CONFIG["eos_token_id"], CONFIG["bos_token_id"]], "do_sample": False}
    with open(os.path.join(out, "generation_config.json"), "w") as f:
        json.dump(gen, f, indent=2)
        f.write("\n")
    for name in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(os.path.join(data_dir, name), os.path.join(out, name))
    with open(os.path.join(out, "pretrain_metrics.json"), "w") as f:
        json.dump(metrics, f, indent=1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="tools/embedded/_data")
    ap.add_argument("--out", required=True)
    ap.add_argument("--ckpt", default=None, help="checkpoint file (default OUT/ckpt.pt)")
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--max-steps", type=int, default=0)
    ap.add_argument("--time-budget", type=float, default=0)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--seq", type=int, default=256)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--warmup", type=int, default=200)
    ap.add_argument("--weight-decay", type=float, default=0.1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--config", default=None, help="JSON file of config.json keys that replace model.py's CONFIG (sizes)")
    ap.add_argument("--eval-every", type=int, default=500)
    ap.add_argument("--ckpt-every", type=int, default=1000)
    ap.add_argument("--eval-windows", type=int, default=256, help="held-out windows of SEQ tokens while training")
    ap.add_argument("--final-windows", type=int, default=1024, help="held-out windows for the final number")
    a = ap.parse_args()
    dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    amp = dev.type == "cuda"
    torch.manual_seed(a.seed)
    if amp:
        torch.backends.cuda.matmul.allow_tf32 = True
    ckpt_path = a.ckpt or os.path.join(a.out, "ckpt.pt")
    os.makedirs(os.path.dirname(os.path.abspath(ckpt_path)), exist_ok=True)
    train = load_u16(os.path.join(a.data, "train.u16"))
    held = load_u16(os.path.join(a.data, "heldout.u16"))
    with open(os.path.join(a.data, "examples.json")) as f:
        sample_docs = json.load(f)["sample"]
    print(f"device {dev}, torch {torch.__version__}, {len(train)} training tokens, {len(held)} held-out tokens", flush=True)

    if a.config:
        CONFIG.update(json.load(open(a.config)))
        CONFIG["max_window_layers"] = CONFIG["num_hidden_layers"]
    model = Qwen3(CONFIG)
    model.init_weights(torch.Generator().manual_seed(a.seed))
    model.to(dev)
    n_params = sum(p.numel() for p in model.parameters())
    decay = [p for n, p in model.named_parameters() if p.dim() == 2]
    rest = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": a.weight_decay}, {"params": rest, "weight_decay": 0.0}], lr=a.lr, betas=(0.9, 0.95), **({"fused": True} if amp else {}))
    step, max_steps, trained_s, log = 0, a.max_steps, 0.0, []
    if a.resume and os.path.exists(ckpt_path):
        ck = torch.load(ckpt_path, map_location=dev)
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["opt"])
        step, trained_s, log = ck["step"], ck["trained_s"], ck["log"]
        max_steps = a.max_steps or ck["max_steps"]
        print(f"resumed at step {step} of {max_steps}", flush=True)
    if not max_steps and not a.time_budget:
        sys.exit("give --max-steps or --time-budget")
    print(f"{n_params} parameters", flush=True)

    def save_ckpt():
        torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "step": step, "max_steps": max_steps, "trained_s": trained_s, "log": log, "args": vars(a)}, ckpt_path)

    t_start = time.time()
    calib = None
    while True:
        if max_steps and step >= max_steps:
            break
        if a.time_budget and trained_s + (time.time() - t_start) > a.time_budget * 1.05:
            print("time budget spent before max_steps", flush=True)
            break
        if not max_steps and step == 30 and calib is None:
            if amp:
                torch.cuda.synchronize()
            calib = time.time()
        if not max_steps and calib is not None and step == 80:
            if amp:
                torch.cuda.synchronize()
            per = (time.time() - calib) / 50
            max_steps = int((a.time_budget - (time.time() - t_start)) / per * 0.93) + step
            print(f"{per * 1000:.1f} ms/step: max_steps = {max_steps}", flush=True)
        lr = lr_at(step, max_steps or 10**9, a.lr, a.warmup)
        for gr in opt.param_groups:
            gr["lr"] = lr
        x = batch_at(train, step, a.seed, a.batch, a.seq, dev)
        with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=amp):
            logits = model(x[:, :-1])
        loss = F.cross_entropy(logits.float().reshape(-1, CONFIG["vocab_size"]), x[:, 1:].reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        if step % 100 == 0:
            print(f"step {step} loss {loss.item():.4f} lr {lr:.2e} {time.time() - t_start:.0f}s", flush=True)
        if step % a.eval_every == 0 or step == max_steps:
            h = heldout_loss(model, held, a.seq, dev, windows=a.eval_windows, dtype=torch.bfloat16 if amp else None)
            log.append({"step": step, "train_loss": loss.item(), "heldout_loss": h, "s": trained_s + time.time() - t_start})
            print(f"step {step}: held-out loss {h:.4f}", flush=True)
        if step % a.ckpt_every == 0:
            save_ckpt()
    trained_s += time.time() - t_start
    save_ckpt()

    # Final numbers on the weights as saved (BF16), computed in float32.
    model.load_state_dict({k: v.to(torch.bfloat16).float() for k, v in model.state_dict().items()})
    model.float()
    h = heldout_loss(model, held, a.seq, dev, windows=a.final_windows)
    s = sample_loss(model, sample_docs, dev)
    metrics = {
        "parameters": n_params,
        "steps": step,
        "max_steps": max_steps,
        "batch": a.batch,
        "seq": a.seq,
        "lr": a.lr,
        "seed": a.seed,
        "tokens_seen": step * a.batch * a.seq,
        "train_tokens": int(len(train)),
        "train_seconds": round(trained_s, 1),
        "device": torch.cuda.get_device_name() if amp else "cpu",
        "torch": torch.__version__,
        "heldout_loss_bf16": h,
        "heldout_loss_tokens": min(a.final_windows, (len(held) - 1) // a.seq) * a.seq,
        "heldout_sample_loss_bf16": s,
        "log": log,
    }
    save_hf(model, a.out, a.data, metrics)
    print(json.dumps({k: v for k, v in metrics.items() if k != "log"}), flush=True)


if __name__ == "__main__":
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    main()
