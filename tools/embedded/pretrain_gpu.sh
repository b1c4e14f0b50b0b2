#!/bin/bash
# Pretrains the embedded model on one CUDA GPU within a wall-clock budget, then checks it: the LoRA bar
# (lora_check.py) and, where Hugging Face transformers is installed, that transformers' Qwen3ForCausalLM and
# tokenizer read the folder as this repo's model and tokenizer do.
#   tools/embedded/pretrain_gpu.sh DATA_DIR OUT_DIR [SECONDS=190]
# DATA_DIR holds tokenize.ts's output (train.u16 may be xz-compressed). OUT_DIR gets the model's weights,
# config, metrics, the LoRA check's JSON and log.txt. Extra pretrain.py options come from $PRETRAIN_ARGS.
set -u
DATA=$1
OUT=$2
BUDGET=${3:-190}
PY=${PY:-python3}
export HERE=$(cd "$(dirname "$0")" && pwd)
MODEL=$(mktemp -d)
export PYTHONUNBUFFERED=1
{
  echo "== pretrain ($BUDGET s)"
  "$PY" "$HERE/pretrain.py" --data "$DATA" --out "$MODEL" --time-budget "$BUDGET" --batch 256 --seq 256 \
    --ckpt "$MODEL/../ckpt.pt" ${PRETRAIN_ARGS:-}
  cp "$DATA"/tokenizer.json "$DATA"/tokenizer_config.json "$MODEL"/
  for f in model.safetensors config.json generation_config.json pretrain_metrics.json; do cp "$MODEL/$f" "$OUT/"; done
  echo "== LoRA check"
  "$PY" "$HERE/lora_check.py" --model "$MODEL" --data "$DATA" --json "$OUT/lora_check.json"
  echo "== transformers check"
  "$PY" - "$MODEL" "$DATA" <<'EOF'
import json, sys, torch
model_dir, data = sys.argv[1], sys.argv[2]
try:
    import transformers
    from transformers import AutoModelForCausalLM, AutoTokenizer
except Exception as e:
    print("transformers not available:", e)
    sys.exit(0)
import os
sys.path.insert(0, os.environ["HERE"])
sys.path.insert(0, os.path.join(os.environ["HERE"], ".."))
from lora_check import load
ex = json.load(open(os.path.join(data, "examples.json")))
hf = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32).eval()
ours, _ = load(model_dir, torch.device("cpu"))
ids = torch.tensor([ex["train"][0]["prompt"] + ex["train"][0]["answer"]])
with torch.no_grad():
    a, b = hf(ids).logits, ours(ids)
print("transformers", transformers.__version__, "logits max |diff|", (a - b).abs().max().item(), "of max", a.abs().max().item())
tok = AutoTokenizer.from_pretrained(model_dir)
row = json.loads(open(os.path.join(os.environ["HERE"], "../../public/data/wordnet-cards-heldout.jsonl")).readline())
msgs = row["messages"][:1]
text = tok.apply_chat_template(msgs, tokenize=False, add_generation_prompt=True)
hf_ids = tok(text, add_special_tokens=False)["input_ids"]
print("HF tokenizer ids == tokenize.ts ids:", hf_ids == ex["heldout"][0]["prompt"], "for", repr(text))
EOF
} 2>&1 | tee "$OUT/log.txt"
