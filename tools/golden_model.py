# Reference Llama-family causal LM (llama / qwen2 / qwen3) with PEFT-style LoRA, in plain functional
# torch, plus a small safetensors reader/writer. Follows HF transformers' modeling_llama / qwen2 / qwen3
# (eager attention, rotate_half RoPE, _compute_llama3_parameters) and PEFT's lora.Linear; the loss is
# HF's causal-LM loss (shifted labels, -100 ignored, Σ CE / count); also the random tiny-model and
# adapter builders. Used by tools/golden.py.

import json
import math
import struct

import numpy as np
import torch
import torch.nn.functional as F

ATTN = ["q_proj", "k_proj", "v_proj", "o_proj"]
MLP = ["gate_proj", "up_proj", "down_proj"]
TARGETS = ATTN + MLP
LOW_PRECISION = (torch.float16, torch.bfloat16)


def module_path(layer, mod):
    """HF module path of a projection, e.g. model.layers.0.self_attn.q_proj."""
    return f"model.layers.{layer}.{'self_attn' if mod in ATTN else 'mlp'}.{mod}"


def lora_key(layer, mod, which):
    """PEFT adapter tensor name; which is 'A' or 'B'."""
    return f"base_model.model.{module_path(layer, mod)}.lora_{which}.weight"


def head_dim(cfg):
    return cfg.get("head_dim") or cfg["hidden_size"] // cfg["num_attention_heads"]


def lora_scale(lcfg):
    r = lcfg["r"]
    return lcfg["lora_alpha"] / (math.sqrt(r) if lcfg.get("use_rslora") else r)


# ---------------------------------------------------------------- RoPE


def rope_inv_freq(cfg):
    """inv_freq (hd/2,) float32, as transformers' default / llama3 rope init functions compute it."""
    hd = head_dim(cfg)
    base = cfg["rope_theta"]
    inv = 1.0 / (base ** (torch.arange(0, hd, 2, dtype=torch.int64).float() / hd))
    rs = cfg.get("rope_scaling")
    if not rs:
        return inv
    kind = rs.get("rope_type", rs.get("type"))
    if kind == "default":
        return inv
    assert kind == "llama3", f"unsupported rope_scaling {rs}"
    factor = rs["factor"]
    low, high = rs["low_freq_factor"], rs["high_freq_factor"]
    old_ctx = rs["original_max_position_embeddings"]
    low_wavelen, high_wavelen = old_ctx / low, old_ctx / high
    wavelen = 2 * math.pi / inv
    # long wavelengths (low frequencies) are divided by factor, short ones kept, the band between blended
    scaled = torch.where(wavelen > low_wavelen, inv / factor, inv)
    smooth = (old_ctx / wavelen - low) / (high - low)
    smoothed = (1 - smooth) * scaled / factor + smooth * scaled
    medium = ~(wavelen < high_wavelen) * ~(wavelen > low_wavelen)
    return torch.where(medium, smoothed, scaled)


def rope_cos_sin(cfg, T):
    """cos, sin (T, hd) in float32: emb = cat(freqs, freqs), freqs[t, i] = t * inv_freq[i]."""
    inv = rope_inv_freq(cfg)
    pos = torch.arange(T, dtype=torch.int64).float()
    freqs = pos[:, None] * inv[None, :]  # (T, hd/2)
    emb = torch.cat([freqs, freqs], dim=-1)  # (T, hd)
    return emb.cos(), emb.sin()


def rotate_half(x):
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat([-x2, x1], dim=-1)


def apply_rope(x, cos, sin):
    """x (B, H, T, hd); cos/sin (T, hd) broadcast over batch and heads."""
    cos, sin = cos.to(x.dtype), sin.to(x.dtype)
    return x * cos + rotate_half(x) * sin


# ---------------------------------------------------------------- blocks


def rms_norm(x, w, eps):
    """HF LlamaRMSNorm: statistics in (at least) float32, weight applied after casting back."""
    h = x.float() if x.dtype in LOW_PRECISION else x
    h = h * torch.rsqrt(h.pow(2).mean(-1, keepdim=True) + eps)
    return w * h.to(x.dtype)


def linear(W, lora, layer, mod, x):
    """y = x W^T (+ b) + scale * B(A(x)) — PEFT lora.Linear with dropout 0."""
    name = module_path(layer, mod)
    y = x @ W[name + ".weight"].t()
    if name + ".bias" in W:
        y = y + W[name + ".bias"]
    if lora is not None and lora_key(layer, mod, "A") in lora["tensors"]:
        A = lora["tensors"][lora_key(layer, mod, "A")]  # (r, in)
        B = lora["tensors"][lora_key(layer, mod, "B")]  # (out, r)
        y = y + ((x @ A.t()) @ B.t()) * lora["scale"]
    return y


def attention(cfg, W, lora, i, x, cos, sin):
    B, T, _ = x.shape
    nH, nKV, hd = cfg["num_attention_heads"], cfg["num_key_value_heads"], head_dim(cfg)
    eps = cfg["rms_norm_eps"]
    q = linear(W, lora, i, "q_proj", x).view(B, T, nH, hd)  # (B, T, nH, hd)
    k = linear(W, lora, i, "k_proj", x).view(B, T, nKV, hd)  # (B, T, nKV, hd)
    v = linear(W, lora, i, "v_proj", x).view(B, T, nKV, hd)  # (B, T, nKV, hd)
    if cfg["model_type"] == "qwen3":  # per-head RMSNorm over hd, before RoPE
        q = rms_norm(q, W[f"model.layers.{i}.self_attn.q_norm.weight"], eps)
        k = rms_norm(k, W[f"model.layers.{i}.self_attn.k_norm.weight"], eps)
    q, k, v = q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)  # (B, heads, T, hd)
    q, k = apply_rope(q, cos, sin), apply_rope(k, cos, sin)
    rep = nH // nKV  # kv head j serves query heads j*rep .. (j+1)*rep-1
    k = k.repeat_interleave(rep, dim=1)  # (B, nH, T, hd)
    v = v.repeat_interleave(rep, dim=1)  # (B, nH, T, hd)
    s = (q @ k.transpose(2, 3)) * hd**-0.5  # (B, nH, T, T)
    future = torch.ones(T, T, dtype=torch.bool).triu(1)
    s = s.masked_fill(future, torch.finfo(s.dtype).min)
    p = F.softmax(s, dim=-1, dtype=torch.float32 if s.dtype in LOW_PRECISION else s.dtype).to(q.dtype)
    o = (p @ v).transpose(1, 2).reshape(B, T, nH * hd)  # (B, T, nH*hd)
    return linear(W, lora, i, "o_proj", o)


def mlp(W, lora, i, x):
    gate = linear(W, lora, i, "gate_proj", x)  # (B, T, I)
    up = linear(W, lora, i, "up_proj", x)  # (B, T, I)
    return linear(W, lora, i, "down_proj", F.silu(gate) * up)


def forward(cfg, W, lora, ids):
    """ids (B, T) int64 -> logits (B, T, vocab). W: HF-named tensors; lora: {"tensors", "scale"} or None."""
    eps = cfg["rms_norm_eps"]
    x = W["model.embed_tokens.weight"][ids]  # (B, T, D)
    cos, sin = rope_cos_sin(cfg, ids.shape[1])
    for i in range(cfg["num_hidden_layers"]):
        h = rms_norm(x, W[f"model.layers.{i}.input_layernorm.weight"], eps)
        x = x + attention(cfg, W, lora, i, h, cos, sin)
        h = rms_norm(x, W[f"model.layers.{i}.post_attention_layernorm.weight"], eps)
        x = x + mlp(W, lora, i, h)
    x = rms_norm(x, W["model.norm.weight"], eps)
    head = W["model.embed_tokens.weight"] if cfg["tie_word_embeddings"] else W["lm_head.weight"]
    return x @ head.t()


# ---------------------------------------------------------------- random model and adapter


def make_weights(cfg, g):
    """HF-named float32 weights: linears/embeddings ~N(0, std), norm weights 1 + N(0, 0.1)."""
    D, V, I = cfg["hidden_size"], cfg["vocab_size"], cfg["intermediate_size"]
    nH, nKV, hd = cfg["num_attention_heads"], cfg["num_key_value_heads"], head_dim(cfg)

    def randn(*shape, std):
        return torch.randn(*shape, generator=g) * std

    def norm(n):
        return 1.0 + randn(n, std=0.1)

    W = {"model.embed_tokens.weight": randn(V, D, std=0.2)}
    shapes = {"q_proj": (nH * hd, D), "k_proj": (nKV * hd, D), "v_proj": (nKV * hd, D),
              "o_proj": (D, nH * hd), "gate_proj": (I, D), "up_proj": (I, D), "down_proj": (D, I)}
    for i in range(cfg["num_hidden_layers"]):
        W[f"model.layers.{i}.input_layernorm.weight"] = norm(D)
        W[f"model.layers.{i}.post_attention_layernorm.weight"] = norm(D)
        for mod, shape in shapes.items():
            W[module_path(i, mod) + ".weight"] = randn(*shape, std=0.12)
        if cfg["model_type"] == "qwen2":
            for mod in ("q_proj", "k_proj", "v_proj"):
                W[module_path(i, mod) + ".bias"] = randn(shapes[mod][0], std=0.1)
        if cfg["model_type"] == "qwen3":
            W[f"model.layers.{i}.self_attn.q_norm.weight"] = norm(hd)
            W[f"model.layers.{i}.self_attn.k_norm.weight"] = norm(hd)
    W["model.norm.weight"] = norm(D)
    if not cfg["tie_word_embeddings"]:
        W["lm_head.weight"] = randn(V, D, std=0.12)
    return W


def adapter_config(base_name, lcfg):
    """PEFT adapter_config.json for a LoRA on all seven projections."""
    return {
        "alpha_pattern": {},
        "auto_mapping": None,
        "base_model_name_or_path": base_name,
        "bias": "none",
        "fan_in_fan_out": False,
        "inference_mode": True,
        "init_lora_weights": True,
        "layers_pattern": None,
        "layers_to_transform": None,
        "lora_alpha": lcfg["lora_alpha"],
        "lora_dropout": 0.0,
        "modules_to_save": None,
        "peft_type": "LORA",
        "r": lcfg["r"],
        "rank_pattern": {},
        "revision": None,
        "target_modules": sorted(TARGETS),
        "task_type": "CAUSAL_LM",
        "use_dora": False,
        "use_rslora": lcfg["use_rslora"],
    }


def make_adapter(cfg, W, lcfg, g, zero_b=False):
    """A ~ U(-1/sqrt(in), 1/sqrt(in)) as PEFT's kaiming_uniform_(a=sqrt(5)); B ~ N(0, 0.05) (nonzero, so
    A gets gradients) or zeros."""
    t = {}
    for i in range(cfg["num_hidden_layers"]):
        for mod in TARGETS:
            out_f, in_f = W[module_path(i, mod) + ".weight"].shape
            bound = 1.0 / math.sqrt(in_f)
            t[lora_key(i, mod, "A")] = (torch.rand(lcfg["r"], in_f, generator=g) * 2 - 1) * bound
            b = torch.randn(out_f, lcfg["r"], generator=g) * 0.05
            t[lora_key(i, mod, "B")] = torch.zeros_like(b) if zero_b else b
    return {"tensors": t, "scale": lora_scale(lcfg)}


# ---------------------------------------------------------------- data and loss


def collate(rows):
    """Right padding to the longest row: input id 0, label -100. Returns ids, labels (B, T) int64."""
    T = max(len(r["input_ids"]) for r in rows)
    ids = torch.zeros(len(rows), T, dtype=torch.int64)
    labels = torch.full((len(rows), T), -100, dtype=torch.int64)
    for b, r in enumerate(rows):
        n = len(r["input_ids"])
        ids[b, :n] = torch.tensor(r["input_ids"])
        labels[b, :n] = torch.tensor(r.get("labels", r["input_ids"]))
    return ids, labels


def ce_sum(cfg, W, lora, batch):
    """(Σ CE over shifted non-ignored labels, their count): logits at t predict label t+1."""
    ids, labels = batch
    logits = forward(cfg, W, lora, ids)
    logits = logits if logits.dtype == torch.float64 else logits.float()
    shift_logits = logits[:, :-1].reshape(-1, logits.shape[-1])
    shift_labels = labels[:, 1:].reshape(-1)
    ce = F.cross_entropy(shift_logits, shift_labels, ignore_index=-100, reduction="sum")
    return ce, int((shift_labels != -100).sum())


def mean_loss(cfg, W, lora, batch):
    ce, n = ce_sum(cfg, W, lora, batch)
    return ce / n


def train(cfg, W, lora, micro_batches, steps, lr, weight_decay, max_grad_norm):
    """Runs `steps` optimizer steps of AdamW on the LoRA tensors (updated in place). Each step: the
    loss Σ CE over all micro-batches / their total count, backward, clip_grad_norm_, AdamW step.
    Returns [{"loss", "grad_norm"}] per step (loss before the update, grad norm before clipping)."""
    names = sorted(lora["tensors"])
    params = [lora["tensors"][k].requires_grad_(True) for k in names]
    opt = torch.optim.AdamW(params, lr=lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=weight_decay)
    total = sum(int((lab[:, 1:] != -100).sum()) for _, lab in micro_batches)
    history = []
    for _ in range(steps):
        opt.zero_grad(set_to_none=True)
        loss = 0.0
        for mb in micro_batches:
            ce, _ = ce_sum(cfg, W, lora, mb)
            part = ce / total
            part.backward()
            loss += part.item()
        norm = torch.nn.utils.clip_grad_norm_(params, max_grad_norm)
        opt.step()
        history.append({"loss": loss, "grad_norm": norm.item()})
    for p in params:
        p.requires_grad_(False)
    return history


# ---------------------------------------------------------------- safetensors

_DTYPES = {"F32": (torch.float32, 4), "BF16": (torch.bfloat16, 2), "F16": (torch.float16, 2)}


def _to_bytes(t):
    t = t.detach().contiguous().cpu()
    if t.dtype == torch.float32:
        return "F32", t.numpy().astype("<f4").tobytes()
    if t.dtype == torch.bfloat16:  # numpy has no bf16: write the raw 16-bit patterns
        return "BF16", t.view(torch.int16).numpy().astype("<i2").tobytes()
    if t.dtype == torch.float16:
        return "F16", t.numpy().astype("<f2").tobytes()
    raise ValueError(f"unsupported dtype {t.dtype}")


def save_safetensors(path, tensors, metadata=None):
    """8-byte LE header length, JSON header (keys sorted, padded with spaces to 8 bytes), raw data
    laid out in key order."""
    header, blobs, offset = {}, [], 0
    if metadata is not None:
        header["__metadata__"] = metadata
    for name in sorted(tensors):
        dtype, data = _to_bytes(tensors[name])
        shape = list(tensors[name].shape)
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":"), sort_keys=True).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def load_safetensors(path, upcast=True):
    """Reads a safetensors file into {name: tensor}; BF16/F16 upcast to float32 when upcast."""
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        buf = raw[8 + n + start : 8 + n + end]
        if info["dtype"] == "F32":
            t = torch.from_numpy(np.frombuffer(buf, dtype="<f4").copy())
        elif info["dtype"] == "F16":
            t = torch.from_numpy(np.frombuffer(buf, dtype="<f2").copy())
        elif info["dtype"] == "BF16":
            bits = np.frombuffer(buf, dtype="<u2").astype(np.uint32) << 16  # bf16 = top half of an f32
            t = torch.from_numpy(bits.view(np.float32).copy())
            t = t if upcast else t.to(torch.bfloat16)
        else:
            raise ValueError(f"{path}: unsupported dtype {info['dtype']}")
        t = t.reshape(info["shape"])
        out[name] = t.float() if upcast else t
    return out
