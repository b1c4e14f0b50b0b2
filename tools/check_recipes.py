"""Reads a cluster bundle (src/engine/export/recipes.ts) the way Python tools will, and prints one JSON object.

- train_trl.py: parsed with ast (syntax), its module constants and the keyword arguments of LoraConfig(...)
  and SFTConfig(...) that are literals;
- axolotl.yaml: loaded with PyYAML when it is installed (Axolotl reads it so), else null;
- the script's own data preparation (build_examples) run on data.jsonl with a character-level stand-in
  tokenizer and a ChatML renderer, so the tests can compare its labels with the engine's encode.ts.

Usage: python3 tools/check_recipes.py BUNDLE_DIR
"""

import ast
import importlib.util
import json
import sys
from pathlib import Path

BOS, EOS = 2, 3


class CharTokenizer:
    """One token per character (id = code point); BOS first when special tokens are added."""

    eos_token_id = EOS
    is_fast = True

    def __call__(self, text, add_special_tokens=True, return_offsets_mapping=False):
        ids = [ord(ch) for ch in text]
        offsets = [(i, i + 1) for i in range(len(text))]
        if add_special_tokens:
            ids, offsets = [BOS] + ids, [(0, 0)] + offsets
        out = {"input_ids": ids}
        if return_offsets_mapping:
            out["offset_mapping"] = offsets
        return out

    def apply_chat_template(self, messages, chat_template=None, tokenize=False, add_generation_prompt=False, **kw):
        text = "".join(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in messages)
        return text + ("<|im_start|>assistant\n" if add_generation_prompt else "")


def literal_kwargs(call):
    out = {}
    for kw in call.keywords:
        try:
            out[kw.arg] = ast.literal_eval(kw.value)
        except ValueError:
            pass
    return out


def main(bundle):
    source = (bundle / "train_trl.py").read_text(encoding="utf-8")
    tree = ast.parse(source)
    constants, calls = {}, {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            try:
                constants[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                pass
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            if node.func.id in ("LoraConfig", "SFTConfig"):
                calls[node.func.id] = literal_kwargs(node)
    try:
        import yaml

        config = yaml.safe_load((bundle / "axolotl.yaml").read_text(encoding="utf-8"))
    except ImportError:
        config = None

    spec = importlib.util.spec_from_file_location("train_trl", bundle / "train_trl.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    rows = [json.loads(line) for line in (bundle / "data.jsonl").read_text(encoding="utf-8").splitlines() if line]
    template_file = bundle / "chat_template.jinja"
    template = template_file.read_text(encoding="utf-8") if template_file.exists() else None
    examples, skipped = script.build_examples(rows, CharTokenizer(), template)
    print(
        json.dumps(
            {
                "constants": constants,
                "lora": calls.get("LoraConfig"),
                "sft": calls.get("SFTConfig"),
                "yaml": config,
                "examples": [{"input_ids": e["input_ids"], "labels": e["labels"]} for e in examples],
                "skipped": skipped,
            }
        )
    )


if __name__ == "__main__":
    main(Path(sys.argv[1]))
