"""GPU benchmark driver, run by run.sh inside the unpacked bundle (tools/gpu/build.sh makes it; README there).

Stages, each with a time cap inside one overall budget; OUT/results.json (and OUT/<gpu>.json) is rewritten
after every stage, so a run cut off still returns what it measured:
  probe     nvidia-smi, Vulkan ICDs, the Dawn adapter (features, limits, shader-f16), Python packages
  peft      transformers + peft load our adapter and merged export of a tiny Qwen2 and Llama: logits vs ours
  ours_*    our bench on WebGPU (Dawn/Vulkan): train 4×512 r8 all-linear, decode batch 1 and 2 (and batch 1
            with graph capture), GPU memory and dispatches
  torch_*   PyTorch eager fp32 and bf16 on the same shapes (CUDA when available, else the CPU)
  recipe    the exported cluster recipe's train_hf.py trains a few steps; its adapter back in our engine
  profile_* bench --profile: per-op GPU time and dispatches of one training step and one decoded token
--quick uses tiny shapes (software WebGPU, CPU torch) to test the bundle itself.
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
NODE = str(HERE / "bin" / "node")
PY = sys.executable
# FP32 (non-tensor) peak TFLOP/s by GPU name, for MFU; first match wins.
FP32_PEAK = [
    (r"H100.*PCIe", 51.2), (r"H100|H200|GH200", 66.9), (r"A100", 19.5), (r"L40S", 91.6), (r"L40", 90.5),
    (r"L4\b", 30.3), (r"A10G", 31.2), (r"A10\b", 31.2), (r"RTX 4090", 82.6), (r"V100", 15.7), (r"T4\b", 8.1),
]
SHAPES = ["smollm2-135m", "qwen2.5-0.5b"]


def now():
    return time.monotonic()


class Run:
    def __init__(self, out, budget, quick):
        self.out, self.quick = Path(out), quick
        self.out.mkdir(parents=True, exist_ok=True)
        self.t0, self.budget = now(), budget
        self.res = {"bundle": (HERE / "VERSION").read_text().strip() if (HERE / "VERSION").exists() else None,
                    "quick": quick, "budget_s": budget, "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                    "stages": {}}
        self.slack = 0.0

    def left(self):
        return self.budget - (now() - self.t0)

    def save(self):
        self.res["elapsed_s"] = round(now() - self.t0, 1)
        text = json.dumps(self.res, indent=1)
        for name in {"results.json", f"{gpu_slug(self.res)}.json"}:
            tmp = self.out / (name + ".tmp")
            tmp.write_text(text)
            tmp.replace(self.out / name)

    def stage(self, name, cap, later, fn):
        """Runs fn(timeout) with its cap plus the time earlier stages left unused, keeping 20 s per later stage."""
        timeout = min(cap + self.slack, self.left() - 20 * later)
        if timeout < 15:
            self.res["stages"][name] = {"skipped": f"no time left ({self.left():.0f} s of the budget)"}
            self.save()
            return None
        t = now()
        print(f"[{now() - self.t0:6.1f}s] {name} (up to {timeout:.0f} s)", flush=True)
        try:
            r = fn(timeout)
        except Exception as e:  # one failed stage must not cost the others
            r = {"error": f"{type(e).__name__}: {e}", "traceback": traceback.format_exc()[-3000:]}
        used = now() - t
        self.slack = max(0.0, cap + self.slack - used)
        r = dict(r or {})
        r["seconds"] = round(used, 1)
        self.res["stages"][name] = r
        self.save()
        print(f"[{now() - self.t0:6.1f}s] {name}: {json.dumps(r)[:400]}", flush=True)
        return r


def gpu_slug(res):
    name = res.get("gpu", {}).get("name") or "no-gpu"
    return re.sub(r"[^A-Za-z0-9.]+", "-", name).strip("-").lower()


def sh(cmd, timeout, cwd=None, env=None):
    """Runs cmd, returns (returncode or 'timeout', stdout, stderr); output of a killed run is kept."""
    log = HERE / ".last-stdout"
    with open(log, "w") as so, open(str(log) + ".err", "w") as se:
        p = subprocess.Popen(cmd, stdout=so, stderr=se, cwd=cwd, env=env, start_new_session=True)
        try:
            rc = p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, 9)
            p.wait()
            rc = "timeout"
    return rc, log.read_text(errors="replace"), Path(str(log) + ".err").read_text(errors="replace")


def last_json(text):
    for line in reversed(text.strip().splitlines()):
        if line.startswith("{"):
            try:
                return json.loads(line)
            except ValueError:
                pass
    return None


# ---------------------------------------------------------------- stages


def probe(run, timeout):
    out = {"env": {k: os.environ.get(k) for k in ("VK_ICD_FILENAMES", "LD_LIBRARY_PATH", "NVIDIA_DRIVER_CAPABILITIES")}}
    if shutil.which("nvidia-smi"):
        rc, so, se = sh(["nvidia-smi", "--query-gpu=name,memory.total,driver_version,clocks.max.sm,power.limit",
                         "--format=csv,noheader"], 30)
        out["nvidia_smi"] = so.strip() or se.strip()
        if rc == 0 and so.strip():
            f = [x.strip() for x in so.strip().splitlines()[0].split(",")]
            run.res["gpu"] = {"name": f[0], "memory": f[1], "driver": f[2], "max_sm_clock": f[3], "power_limit": f[4]}
    else:
        out["nvidia_smi"] = "not found"
    icds = {}
    for d in ["/etc/vulkan/icd.d", "/usr/share/vulkan/icd.d", "/usr/local/share/vulkan/icd.d"]:
        for f in sorted(Path(d).glob("*.json")) if Path(d).is_dir() else []:
            icds[str(f)] = f.read_text(errors="replace")[:300]
    out["vulkan_icds"] = icds
    rc, so, se = sh([NODE, str(HERE / "app" / "probe.mjs")], min(timeout, 120))
    out["dawn"] = last_json(so) or {"rc": rc, "stderr": se[-2000:]}
    if not out["dawn"].get("ok"):
        out["diagnostics"] = vulkan_diagnostics()
        # Headless machines: NVIDIA's GLX ICD cannot create a Vulkan instance without a display; its EGL
        # library (same driver) can. Try it, then any other manifest, and keep the first that gives an adapter.
        tried = {}
        for icd in icd_candidates(icds):
            env = dict(os.environ, VK_ICD_FILENAMES=icd)
            rc, so, se = sh([NODE, str(HERE / "app" / "probe.mjs")], min(timeout, 60), env=env)
            tried[icd] = last_json(so) or {"rc": rc, "stderr": se[-1000:]}
            if tried[icd].get("ok"):
                os.environ["VK_ICD_FILENAMES"] = icd  # later stages inherit it
                out["dawn"] = tried[icd]
                break
        out["icd_tries"] = tried
    if out["dawn"].get("ok") and not (out["dawn"].get("runtime") or {}).get("f16"):
        # No shader-f16 offered: see whether Dawn offers it once its unsafe-API gate is open.
        flags = "enable-dawn-features=allow_unsafe_apis"
        rc, so, se = sh([NODE, str(HERE / "app" / "probe.mjs")], min(timeout, 60), env=dict(os.environ, DAWN_FLAGS=flags))
        r = last_json(so) or {"rc": rc, "stderr": se[-1000:]}
        out["dawn_unsafe_apis"] = {"f16": (r.get("runtime") or {}).get("f16"), "features": r.get("features")}
        if (r.get("runtime") or {}).get("f16"):
            os.environ["DAWN_FLAGS"] = flags  # later stages get f16 weight storage
    rc, so, se = sh([PY, str(HERE / "hf_check.py"), "versions"], 60)
    out["python"] = {"executable": PY, "version": sys.version.split()[0], "packages": last_json(so) or se[-500:]}
    rc, so, se = sh([PY, "-c", "import torch,json; print(json.dumps({'cuda': torch.cuda.is_available(), "
                     "'device': torch.cuda.get_device_name(0) if torch.cuda.is_available() else None}))"], 60)
    out["torch_cuda"] = last_json(so) or se[-500:]
    name = run.res.get("gpu", {}).get("name", "")
    peak = next((p for pat, p in FP32_PEAK if re.search(pat, name)), None)
    run.res["fp32_peak_tflops"] = peak
    return out


def vulkan_diagnostics():
    """What a failed Vulkan start leaves to read: device nodes and the driver's graphics libraries."""
    rc, so, se = sh(["sh", "-c", "ls -l /dev/nvidia* /dev/dri 2>&1; ldconfig -p | grep -iE 'nvidia|vulkan|libEGL|libGLX'"], 20)
    return so[-3000:]


def icd_candidates(found):
    """Manifests to try: one written for libEGL_nvidia.so.0 (headless), then the machine's own."""
    out = []
    rc, so, se = sh(["sh", "-c", "ldconfig -p | grep -o 'libEGL_nvidia.so.0' | head -1"], 10)
    if "libEGL_nvidia" in so:
        d = HERE / "icd"
        d.mkdir(exist_ok=True)
        f = d / "nvidia_egl_icd.json"
        f.write_text(json.dumps({"file_format_version": "1.0.1",
                                 "ICD": {"library_path": "libEGL_nvidia.so.0", "api_version": "1.3.0"}}))
        out.append(str(f))
    out += [k for k in found if k != os.environ.get("VK_ICD_FILENAMES")]
    return out


def peft_stage(run, timeout):
    out = {}
    for case in sorted((HERE / "fixtures" / "peft").iterdir()):
        left = timeout - sum(v.get("seconds", 0) for v in out.values())
        t = now()
        rc, so, se = sh([PY, str(HERE / "hf_check.py"), "logits", str(case)], max(10, left))
        out[case.name] = last_json(so) or {"rc": rc, "stderr": se[-2000:]}
        out[case.name]["seconds"] = round(now() - t, 1)
    out["ok"] = all(v.get("ok") for v in out.values() if isinstance(v, dict))
    return out


def bench_args(run, shape):
    if run.quick:
        return ["--shape", shape, "--layers", "1", "--batch", "1", "--seq", "16", "--steps", "1",
                "--new-tokens", "4", "--prompt", "4", "--decode-batch", "1,2", "--targets", "all-linear"]
    return ["--shape", shape, "--batch", "4", "--seq", "512", "--steps", "3", "--new-tokens", "64",
            "--prompt", "16", "--decode-batch", "1,2", "--targets", "all-linear", "--rank", "8"]


def ours(run, shape, timeout):
    cmd = [NODE, str(HERE / "app" / "bench.mjs"), "--backend", "webgpu", "--no-torch", "--graph-capture",
           "--compare-fused", *bench_args(run, shape)]
    if run.res.get("fp32_peak_tflops"):
        cmd += ["--peak-tflops", str(run.res["fp32_peak_tflops"])]
    rc, so, se = sh(cmd, timeout)
    partials = [json.loads(l[len("BENCH_PARTIAL "):]) for l in so.splitlines() if l.startswith("BENCH_PARTIAL ")]
    final = last_json(so)
    res = {"rc": rc, "command": " ".join(cmd[1:]), "partial": partials}
    if final:
        res["result"] = final["ours"]
    else:  # cut off or failed: what the phases that finished measured
        res["stdout_tail"], res["stderr_tail"] = so[-1500:], se[-3000:]
        got = {"complete": False, "decode": []}
        for p in map(dict, partials):
            what = p.pop("what")
            if what == "decode":
                got["decode"].append(p)
            elif what != "device":
                got.update(p)
        res["result"] = got
    return res


def profile_stage(run, shape, timeout):
    """bench --profile: GPU time and dispatches by op type and the top kernels of one training step and one
    decoded token (fused and unfused inference graphs), from onnxruntime's timestamp-query profiling."""
    cmd = [NODE, str(HERE / "app" / "bench.mjs"), "--backend", "webgpu", "--no-torch", "--profile", "--compare-fused",
           *bench_args(run, shape)]
    rc, so, se = sh(cmd, timeout)
    phases = [json.loads(l[len("BENCH_PROFILE "):]) for l in so.splitlines() if l.startswith("BENCH_PROFILE ")]
    res = {"rc": rc, "command": " ".join(cmd[1:]), "phases": {p.pop("phase"): p for p in phases}}
    if rc != 0 or not phases:
        res["stdout_tail"], res["stderr_tail"] = "\n".join(l for l in so.splitlines() if not l.startswith("{"))[-1500:], se[-3000:]
    return res


def torch_stage(run, shape, dtype, timeout):
    cuda = (run.res["stages"].get("probe") or {}).get("torch_cuda")
    dev = "cuda" if isinstance(cuda, dict) and cuda.get("cuda") else "cpu"
    if dev == "cpu" and not run.quick:
        return {"skipped": "no CUDA in this Python's torch"}
    args = bench_args(run, shape)
    cmd = [PY, str(HERE / "bench_torch.py"), "--json", "--device", dev, "--dtype", dtype, *args,
           "--threads", str(os.cpu_count() or 2)]
    rc, so, se = sh(cmd, timeout, cwd=str(HERE))
    res = {"rc": rc, "device": dev, "command": " ".join(cmd[1:])}
    j = last_json(so)
    if j:
        res["result"] = j
    else:
        res["stderr_tail"] = se[-3000:]
    return res


def recipe(run, timeout):
    from importlib.util import find_spec

    missing = [m for m in ("transformers", "peft", "accelerate") if find_spec(m) is None]
    if missing:
        return {"skipped": f"not installed: {', '.join(missing)}"}
    work = run.out / "recipe-run"
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(HERE / "fixtures" / "recipe" / "bundle", work)
    base = HERE / "fixtures" / "recipe" / "base"
    for script in ("train_trl.py",):  # BASE_MODEL is where the model folder is on this machine
        p = work / script
        p.write_text(re.sub(r"^BASE_MODEL = .*$", f"BASE_MODEL = {json.dumps(str(base))}", p.read_text(), flags=re.M))
    t = now()
    rc, so, se = sh([PY, "train_hf.py"], timeout * 0.6, cwd=str(work))
    res = {"rc": rc, "train_seconds": round(now() - t, 1), "log_tail": (so + se)[-2500:]}
    adapter = work / "adapter"
    if rc != 0 or not (adapter / "adapter_model.safetensors").exists():
        return res
    res["trainer_log"] = [line for line in so.splitlines() if "'loss'" in line][-8:]
    rc, so2, se2 = sh([PY, str(HERE / "hf_check.py"), "recipe-loss", str(work), str(adapter)], max(15, timeout * 0.2))
    res["hf"] = last_json(so2) or {"rc": rc, "stderr": se2[-2000:]}
    rc, so3, se3 = sh([NODE, str(HERE / "app" / "main.mjs"), "eval", "--model", str(base), "--adapter", str(adapter),
                       "--data", str(work / "data.jsonl"), "--max-len", "32", "--backend", "cpu", "--quiet"],
                      max(15, timeout * 0.2))
    res["ours"] = last_json(so3) or {"rc": rc, "stderr": se3[-2000:]}
    a, b = res["hf"].get("loss"), res["ours"].get("loss")
    if a is not None and b is not None:
        res["loss_diff"] = abs(a - b)
        res["ok"] = abs(a - b) <= 1e-3 * max(1.0, abs(a)) and res["hf"].get("tokens") == res["ours"].get("tokens")
    return res


def summary(run):
    st = run.res["stages"]
    peak = run.res.get("fp32_peak_tflops")
    rows = {}
    for shape in SHAPES:
        o = (st.get(f"ours_{shape}") or {}).get("result") or {}
        f32 = ((st.get(f"torch_{shape}_float32") or {}).get("result")) or {}
        b16 = ((st.get(f"torch_{shape}_bfloat16") or {}).get("result")) or {}
        dec = {d["batch"]: d for d in o.get("decode", []) if d.get("sampling") == "greedy"}
        cap = next((d for d in o.get("decode", []) if "capture" in d.get("sampling", "")), {})
        flops = o.get("train_flops_per_token")
        r = {
            "ours_train_tokens_per_s": o.get("train_tokens_per_s"),
            "ours_step_ms": o.get("train_step_ms"),
            "ours_first_step_ms": o.get("train_first_step_ms"),
            "ours_train_gpu_peak_mb": o.get("train_gpu_peak_mb"),
            "ours_dispatches_per_step": o.get("dispatches_per_step"),
            "ours_mfu": o.get("mfu"),
            "ours_decode_b1_tokens_per_s": (dec.get(1) or {}).get("tokens_per_s"),
            "ours_decode_b2_tokens_per_s": (dec.get(2) or {}).get("tokens_per_s"),
            "ours_dispatches_per_decoded_token": (dec.get(1) or {}).get("dispatches_per_token"),
            "ours_decode_b1_graph_capture_tokens_per_s": cap.get("tokens_per_s"),
            "graph_capture_same_tokens": cap.get("same_tokens"),
            "ours_unfused_dispatches_per_decoded_token": next(
                (d.get("dispatches_per_token") for d in o.get("decode", []) if "unfused" in d.get("sampling", "")), None),
            "torch_fp32_train_tokens_per_s": f32.get("train_tokens_per_s"),
            "torch_bf16_train_tokens_per_s": b16.get("train_tokens_per_s"),
            "torch_fp32_decode_b1_tokens_per_s": f32.get("decode_tokens_per_s"),
            "torch_fp32_peak_mb": f32.get("train_gpu_peak_mb"),
        }
        if flops and peak and f32.get("train_tokens_per_s"):
            r["torch_fp32_mfu"] = f32["train_tokens_per_s"] * flops / (peak * 1e12)
        if r["ours_train_tokens_per_s"] and r["torch_fp32_train_tokens_per_s"]:
            r["train_ours_over_torch_fp32"] = r["ours_train_tokens_per_s"] / r["torch_fp32_train_tokens_per_s"]
        rows[shape] = r
    run.res["summary"] = rows
    run.save()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--budget", type=float, default=520, help="seconds for all stages together")
    ap.add_argument("--quick", action="store_true", help="tiny shapes: tests the bundle on software WebGPU / CPU")
    ap.add_argument("--only", help="comma-separated stage names or prefixes (e.g. probe,torch_,recipe)")
    a = ap.parse_args()
    run = Run(a.out, a.budget, a.quick)
    run.save()
    # (name, cap seconds, function); caps add up to about the default budget
    stages = [("probe", 45, lambda t: probe(run, t)), ("peft", 45, lambda t: peft_stage(run, t))]
    caps = {"smollm2-135m": (110, 25), "qwen2.5-0.5b": (160, 30)}
    for shape in SHAPES:
        stages.append((f"ours_{shape}", caps[shape][0], lambda t, s=shape: ours(run, s, t)))
        for dtype in ("float32", "bfloat16"):
            stages.append((f"torch_{shape}_{dtype}", caps[shape][1], lambda t, s=shape, d=dtype: torch_stage(run, s, d, t)))
    stages.append(("recipe", 60, lambda t: recipe(run, t)))
    for shape in SHAPES:  # last: a cut-off run still has the timings
        stages.append((f"profile_{shape}", 90, lambda t, s=shape: profile_stage(run, s, t)))
    if a.quick:
        stages = [(n, c * 4, f) for n, c, f in stages]
    if a.only:
        stages = [s for s in stages if any(s[0].startswith(p) for p in a.only.split(","))]
    for i, (name, cap, fn) in enumerate(stages):
        run.stage(name, cap, len(stages) - i - 1, fn)
        summary(run)
    print(json.dumps(run.res["summary"], indent=1))


if __name__ == "__main__":
    main()
