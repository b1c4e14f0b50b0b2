#!/bin/bash
# Pretrains several sizes of the embedded model side by side on one CUDA GPU within a wall-clock budget and
# runs the LoRA bar (lora_check.py) on each, to pick the smallest size that clears it.
#   tools/embedded/pretrain_sizes.sh DATA_DIR OUT_DIR SECONDS CONFIG.json [CONFIG.json …]
# DATA_DIR holds tokenize.ts's output (train.u16 may be xz-compressed); each CONFIG (tools/embedded/configs/)
# replaces model.py's sizes. OUT_DIR/<config name>/ gets the Hugging Face folder, pretrain_metrics.json,
# lora_check.json (lr 1e-3, the bar's setting) and log.txt.
set -u
DATA=$1
OUT=$2
BUDGET=$3
shift 3
PY=${PY:-python3}
HERE=$(cd "$(dirname "$0")" && pwd)
export PYTHONUNBUFFERED=1
pids=()
for cfg in "$@"; do
  name=$(basename "$cfg" .json)
  mkdir -p "$OUT/$name"
  (
    "$PY" "$HERE/pretrain.py" --data "$DATA" --out "$OUT/$name" --config "$cfg" --time-budget "$BUDGET" \
      --batch 256 --seq 256 --ckpt "/tmp/ckpt-$name.pt" ${PRETRAIN_ARGS:-} &&
      rm -f "$OUT/$name/ckpt.pt" &&
      "$PY" "$HERE/lora_check.py" --model "$OUT/$name" --data "$DATA" --json "$OUT/$name/lora_check.json" |
      tail -n 40
  ) >"$OUT/$name/log.txt" 2>&1 &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
for cfg in "$@"; do
  name=$(basename "$cfg" .json)
  "$PY" - "$OUT/$name" <<'PYEOF'
import json, os, sys
d = sys.argv[1]
m = json.load(open(os.path.join(d, "pretrain_metrics.json"))) if os.path.exists(os.path.join(d, "pretrain_metrics.json")) else {}
c = json.load(open(os.path.join(d, "lora_check.json"))) if os.path.exists(os.path.join(d, "lora_check.json")) else {}
print(os.path.basename(d), "params", m.get("parameters"), "steps", m.get("steps"), "heldout", m.get("heldout_loss_bf16"),
      "base", c.get("base_adherence_heldout"), "tuned", c.get("tuned_adherence_heldout"))
PYEOF
done
