// train_hf.py of the cluster bundle (recipes.ts): the same run as train_trl.py with plain transformers
// Trainer + PEFT, for machines that have transformers, peft and accelerate but not TRL. It imports the data
// preparation (the studio's rule for trained tokens) from train_trl.py, which loads TRL only inside its main().
import type { TrainConfig } from '../train/config';
import { resolveTargets } from '../train/config';
import { pyOptimArgs, pySaveArgs, type TrlScriptOptions } from './recipe-trl';
import { pyFloat, pyLoraConfig } from './recipe-values';

/** What train_hf.py needs (no TRL, no datasets). */
export const HF_PIP = 'pip install "transformers>=4.46" "peft>=0.13" "accelerate>=1.0"';

export function hfScript(o: TrlScriptOptions): string {
  const c: TrainConfig = o.train;
  const targets = c.targets === 'all-linear' ? 'all-linear' : resolveTargets(c.targets);
  const length =
    c.steps > 0 ? `max_steps=${c.steps},  # optimizer steps` : `num_train_epochs=${pyFloat(c.epochs)},`;
  return `"""LoRA fine-tuning of ${o.baseModel} on data.jsonl with transformers' Trainer and PEFT (no TRL),
exported from LoRA Studio.

The same rows, trained tokens and settings as train_trl.py (its data preparation is imported from it); rows
are padded per batch, never packed. Gradient-accumulated steps average over the step's tokens as the studio
does (transformers >= 4.46).

Install (Python >= 3.10 and a build of PyTorch for the machine):
    ${HF_PIP}
Run from this folder:
    python train_hf.py                  # one GPU, or the CPU
    accelerate launch train_hf.py       # several GPUs (the batch size is per device)
The adapter (PEFT: adapter_config.json + adapter_model.safetensors) is written to ./adapter.
"""

import json
import random
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from train_trl import (  # noqa: E402  the studio's data preparation, shared with the TRL recipe
    BASE_MODEL, CHECKPOINT_SECONDS, DATA, IGNORE, PACKING, SEED, SHUFFLE, TEMPLATE_FILE, VAL_SPLIT,
    build_examples, timed_checkpoints,
)


def pad_batch(examples, pad_id):
    """Right padding to the longest row: pad id (masked by attention_mask), label -100."""
    import torch

    T = max(len(e["input_ids"]) for e in examples)
    ids, labels, mask = [], [], []
    for e in examples:
        n = len(e["input_ids"])
        ids.append(e["input_ids"] + [pad_id] * (T - n))
        labels.append(e["labels"] + [IGNORE] * (T - n))
        mask.append([1] * n + [0] * (T - n))
    return {"input_ids": torch.tensor(ids), "labels": torch.tensor(labels), "attention_mask": torch.tensor(mask)}


def main():
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import (
        AutoModelForCausalLM, AutoTokenizer, Trainer, TrainerCallback, TrainingArguments, set_seed,
    )

    set_seed(SEED)
    if PACKING:
        print("this script pads rows instead of packing them (train_trl.py packs)")
    tok = AutoTokenizer.from_pretrained(BASE_MODEL)
    if not tok.is_fast:
        sys.exit("this script needs a fast tokenizer (tokenizer.json) for character offsets")
    template = TEMPLATE_FILE.read_text(encoding="utf-8") if TEMPLATE_FILE.exists() else None
    rows = [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines() if line.strip()]
    examples, skipped = build_examples(rows, tok, template)
    if skipped:
        print(f"{skipped} rows have nothing to train on and are skipped")
    examples = [{"input_ids": e["input_ids"], "labels": e["labels"]} for e in examples]
    train, val = examples, []
    if VAL_SPLIT > 0:
        order = list(range(len(examples)))
        random.Random(SEED).shuffle(order)
        n_val = max(1, round(len(examples) * VAL_SPLIT))
        val = [examples[i] for i in order[:n_val]]
        train = [examples[i] for i in sorted(order[n_val:])]

    bf16 = torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    model = AutoModelForCausalLM.from_pretrained(BASE_MODEL)
    if bf16:
        model = model.to(torch.bfloat16)
    model = get_peft_model(
        model,
        ${pyLoraConfig(c, targets, '            ')},
    )
    args = TrainingArguments(
        output_dir=str(HERE / "checkpoints"),
        ${pyOptimArgs(c)}
        ${length}
        seed=SEED,
        data_seed=SEED,
        bf16=bf16,
        logging_steps=1,
        ${pySaveArgs(c)}
        report_to="none",
        remove_unused_columns=False,
    )

    class InOrderTrainer(Trainer):
        """Rows in file order: the studio run had shuffling off."""

        def _get_train_sampler(self, *args, **kwargs):
            dataset = args[0] if args else kwargs.get("train_dataset")
            return torch.utils.data.SequentialSampler(dataset if dataset is not None else self.train_dataset)

    pad_id = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
    trainer = (Trainer if SHUFFLE else InOrderTrainer)(
        model=model,
        args=args,
        train_dataset=train,
        eval_dataset=val or None,
        data_collator=lambda batch: pad_batch(batch, pad_id),
        callbacks=[timed_checkpoints(TrainerCallback, CHECKPOINT_SECONDS)] if CHECKPOINT_SECONDS > 0 else None,
    )
    trainer.train()
    if val:
        print(f"validation loss: {trainer.evaluate()['eval_loss']:.4f}")
    model.save_pretrained(str(HERE / "adapter"))
    print(f"adapter saved to {HERE / 'adapter'}")


if __name__ == "__main__":
    main()
`;
}
