// train_trl.py of the cluster bundle (recipes.ts): a TRL SFTTrainer + PEFT LoraConfig script with the run's
// settings written as literals. It tokenizes data.jsonl itself with the studio's rule (DESIGN §3 "Which tokens
// are trained") and hands TRL input_ids + labels, so every chat template works, with or without
// {% generation %} markers. Written against TRL 1.9 (SFTConfig.max_length, labels kept as given).
import type { TrainConfig } from '../train/config';
import { resolveTargets } from '../train/config';
import { pyFloat, pyLiteral, pyLoraConfig } from './recipe-values';

export interface TrlScriptOptions {
  baseModel: string;
  train: TrainConfig;
  /** chat_template.jinja is in the bundle (the studio used that template). */
  hasTemplate: boolean;
  templateKwargs: Record<string, unknown>;
}

/** The packages the script is written against (TRL 1.9 with the transformers / PEFT that Axolotl 0.18 pins). */
export const TRL_PIP =
  'pip install "trl==1.9.0" "transformers==5.14.1" "peft==0.19.1" "datasets>=4.7" "accelerate>=1.4"';

/** transformers' "constant" schedule ignores warmup_steps; "constant_with_warmup" is the studio's constant. */
export function hfScheduler(c: Pick<TrainConfig, 'schedule' | 'warmup'>): string {
  return c.schedule === 'constant' && c.warmup > 0 ? 'constant_with_warmup' : c.schedule;
}

/**
 * TrainingArguments' saving for the studio's checkpoints: every N steps natively; by time through the
 * script's timed_checkpoints callback (the steps strategy with no step count of its own then).
 */
export function pySaveArgs(c: TrainConfig, indent = '        '): string {
  if (c.checkpointEvery > 0) return `save_strategy="steps",\n${indent}save_steps=${c.checkpointEvery},`;
  if (c.checkpointSeconds > 0)
    return `save_strategy="steps",  # by time: timed_checkpoints asks for each save\n${indent}save_steps=10**12,`;
  return 'save_strategy="no",  # the adapter is saved once, at the end';
}

/** TrainingArguments' batch, AdamW, schedule and clipping: the studio's, in both scripts. */
export function pyOptimArgs(c: TrainConfig, indent = '        '): string {
  return [
    `per_device_train_batch_size=${c.batchSize},`,
    `per_device_eval_batch_size=${c.batchSize},`,
    `gradient_accumulation_steps=${c.gradAccum},`,
    `learning_rate=${pyFloat(c.lr)},`,
    `weight_decay=${pyFloat(c.weightDecay)},`,
    'optim="adamw_torch",',
    'adam_beta1=0.9,',
    'adam_beta2=0.999,',
    'adam_epsilon=1e-8,',
    `# transformers' "constant" ignores warmup_steps: with warmup the studio's constant is "constant_with_warmup"`,
    `lr_scheduler_type=${pyLiteral(hfScheduler(c))},`,
    `warmup_steps=${c.warmup},`,
    `max_grad_norm=${pyFloat(c.maxGradNorm)},  # 0 = no clipping (transformers clips only when > 0)`,
  ].join(`\n${indent}`);
}

export function trlScript(o: TrlScriptOptions): string {
  const c = o.train;
  const targets = c.targets === 'all-linear' ? 'all-linear' : resolveTargets(c.targets);
  const length =
    c.steps > 0
      ? `max_steps=${c.steps},  # optimizer steps (num_train_epochs is then ignored)`
      : `num_train_epochs=${pyFloat(c.epochs)},`;
  const evalArgs =
    c.valSplit > 0 && c.evalEvery > 0
      ? `eval_strategy="steps",\n        eval_steps=${c.evalEvery},`
      : c.valSplit > 0
        ? 'eval_strategy="no",  # validation loss once, after training'
        : 'eval_strategy="no",';
  const saveArgs = pySaveArgs(c);
  return `"""LoRA fine-tuning of ${o.baseModel} on data.jsonl with TRL, exported from LoRA Studio.

The same run as in the studio: the same rows, the same tokens trained (the studio's rule, applied by
encode_row below), the same LoRA and optimizer settings. README.md lists what still differs (random numbers,
precision, shuffling order, the validation rows).

Install (the versions this script is written for; Python >= 3.10 and a CUDA build of PyTorch):
    ${TRL_PIP}
Run from this folder:
    python train_trl.py                  # one GPU
    accelerate launch train_trl.py       # several GPUs (the batch size is per device)
The adapter (PEFT: adapter_config.json + adapter_model.safetensors) is written to ./adapter.
"""

import json
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
BASE_MODEL = ${pyLiteral(o.baseModel)}  # Hub repo id or local folder
DATA = HERE / "data.jsonl"
# The chat template the studio rendered rows with; without the file the model has none and turns are joined.
TEMPLATE_FILE = HERE / "chat_template.jinja"
TEMPLATE_KWARGS = ${pyLiteral(o.templateKwargs)}
MAX_LENGTH = ${c.maxLen}
TRAIN_ON_PROMPT = ${pyLiteral(c.trainOnPrompt)}
VAL_SPLIT = ${pyFloat(c.valSplit)}
SEED = ${c.seed}
SHUFFLE = ${pyLiteral(c.shuffle)}
PACKING = ${pyLiteral(c.packing)}
# The studio's checkpoints: every CHECKPOINT_STEPS optimizer steps and every CHECKPOINT_SECONDS of training
# (0 = off), written to ./checkpoints.
CHECKPOINT_STEPS = ${c.checkpointEvery}
CHECKPOINT_SECONDS = ${c.checkpointSeconds}
IGNORE = -100


def timed_checkpoints(callback_base, seconds, clock=time.monotonic):
    """A Trainer callback (callback_base: transformers.TrainerCallback) that asks for a checkpoint once
    \`seconds\` of training have passed since the last one, as the studio's time-based checkpoints do."""

    class TimedCheckpoints(callback_base):
        def __init__(self):
            self.last = clock()

        def on_train_begin(self, args, state, control, **kwargs):
            self.last = clock()

        def on_step_end(self, args, state, control, **kwargs):
            if clock() - self.last >= seconds:
                control.should_save = True
            return control

        def on_save(self, args, state, control, **kwargs):
            self.last = clock()

    return TimedCheckpoints()


def template_spans(tok, template, messages):
    """The conversation rendered once, and the character span of each assistant turn k in it: the text
    render(m[:k+1]) minus render(m[:k], add_generation_prompt=True), i.e. the reply and its end-of-turn."""

    def render(n, gen):
        return tok.apply_chat_template(
            messages[:n], chat_template=template, tokenize=False, add_generation_prompt=gen, **TEMPLATE_KWARGS
        )

    full = render(len(messages), False)
    spans, cursor = [], 0
    for k, m in enumerate(messages):
        if m["role"] != "assistant":
            continue
        prompt, upto = render(k, True), render(k + 1, False)
        if not upto.startswith(prompt) or len(upto) == len(prompt):
            raise ValueError("chat template is not prefix-stable: the generation prompt is not a prefix")
        span = upto[len(prompt) :]
        start = -1
        if full.startswith(upto):
            start = len(prompt)
        else:  # history turns rendered differently (e.g. Qwen3 drops empty think blocks): search backwards
            d = 0
            while d < len(upto) and d < len(full) and full[d] == upto[d]:
                d += 1
            for p in range(min(d, len(full) - len(span)), cursor - 1, -1):
                if full.startswith(span, p):
                    start = p
                    break
        if start < cursor:
            raise ValueError("chat template is not prefix-stable: the reply is not in the whole conversation")
        spans.append((start, start + len(span)))
        cursor = start + len(span)
    return full, spans


def concat_spans(messages):
    """Without a chat template: turns joined by a blank line, each assistant turn's text trained."""
    text, spans = "", []
    for i, m in enumerate(messages):
        if i > 0:
            text += "\\n\\n"
        if m["role"] == "assistant":
            spans.append((len(text), len(text) + len(m["content"])))
        text += m["content"]
    return text, spans


def mark(tok, text, spans, add_special_tokens):
    """Tokenizes text once; tokens overlapping a span are trained (labels = ids), the rest get -100."""
    enc = tok(text, add_special_tokens=add_special_tokens, return_offsets_mapping=True)
    ids = list(enc["input_ids"])
    labels = [IGNORE] * len(ids)
    for t, (s, e) in enumerate(enc["offset_mapping"]):
        if e > s and any(s < b and e > a for a, b in spans):
            labels[t] = ids[t]
    return ids, labels


def with_eos(ids, tok):
    if tok.eos_token_id is None:
        raise ValueError("the tokenizer has no EOS token")
    return ids if ids and ids[-1] == tok.eos_token_id else ids + [tok.eos_token_id]


def encode_row(row, tok, template):
    """One data.jsonl row -> (input_ids, labels), cut to MAX_LENGTH keeping the start."""
    if "input_ids" in row:
        ids = list(row["input_ids"])
        labels = list(row["labels"]) if row.get("labels") is not None else list(ids)
    elif "text" in row:
        ids = with_eos(tok(row["text"], add_special_tokens=True)["input_ids"], tok)
        labels = list(ids)
    elif template is not None:
        text, spans = template_spans(tok, template, row["messages"])
        ids, labels = mark(tok, text, spans, False)
    else:
        text, spans = concat_spans(row["messages"])
        ids, labels = mark(tok, text, spans, True)
        n = len(ids)
        ids = with_eos(ids, tok)
        labels += ids[n:]
    if TRAIN_ON_PROMPT and "input_ids" not in row:
        labels = list(ids)
    return ids[:MAX_LENGTH], labels[:MAX_LENGTH]


def build_examples(rows, tok, template):
    """Examples TRL uses as they are (a dataset with input_ids is not tokenized again). labels carry the
    mask; assistant_masks repeats it for TRL 1.0-1.8, whose packing kept the masks rather than labels."""
    examples, skipped = [], 0
    for row in rows:
        ids, labels = encode_row(row, tok, template)
        if all(label == IGNORE for label in labels[1:]):  # position 0 is never a target
            skipped += 1
            continue
        mask = [int(label != IGNORE) for label in labels]
        examples.append({"input_ids": ids, "labels": labels, "assistant_masks": mask})
    return examples, skipped


def main():
    import torch
    from datasets import Dataset
    from peft import LoraConfig
    from transformers import AutoTokenizer, TrainerCallback, set_seed
    from trl import SFTConfig, SFTTrainer

    set_seed(SEED)
    tok = AutoTokenizer.from_pretrained(BASE_MODEL)
    if not tok.is_fast:
        sys.exit("this script needs a fast tokenizer (tokenizer.json) for character offsets")
    template = TEMPLATE_FILE.read_text(encoding="utf-8") if TEMPLATE_FILE.exists() else None
    rows = [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines() if line.strip()]
    examples, skipped = build_examples(rows, tok, template)
    if skipped:
        print(f"{skipped} rows have nothing to train on within {MAX_LENGTH} tokens and are skipped")
    data = Dataset.from_list(examples)
    train, val = data, None
    if VAL_SPLIT > 0:
        split = data.train_test_split(test_size=VAL_SPLIT, seed=SEED)
        train, val = split["train"], split["test"]

    bf16 = torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    model_kwargs = {"dtype": "bfloat16" if bf16 else "float32"}
    if PACKING:
        try:
            import flash_attn  # noqa: F401  packed rows need attention that respects row boundaries

            model_kwargs["attn_implementation"] = "flash_attention_2"
        except ImportError:
            print("packing without flash-attn: install it so packed rows do not attend to each other")

    peft_config = ${pyLoraConfig(c, targets, '        ')}
    args = SFTConfig(
        output_dir=str(HERE / "checkpoints"),
        model_init_kwargs=model_kwargs,
        # TRL >= 0.20 calls it max_length (max_seq_length before); rows are already cut to it above.
        max_length=MAX_LENGTH,
        packing=PACKING,
        # For a "messages" dataset TRL's own switch is assistant_only_loss=True (completion_only_loss is for
        # prompt/completion datasets); it needs {% generation %} markers in the chat template, which few
        # templates have. The labels built above already mask everything but the assistant turns.
        assistant_only_loss=False,
        ${pyOptimArgs(c)}
        ${length}
        seed=SEED,
        data_seed=SEED,
        bf16=bf16,
        logging_steps=1,
        ${evalArgs}
        ${saveArgs}
        report_to="none",
    )

    class InOrderSFTTrainer(SFTTrainer):
        """Rows in file order: the studio run had shuffling off."""

        def _get_train_sampler(self, *args, **kwargs):
            dataset = args[0] if args else kwargs.get("train_dataset")
            return torch.utils.data.SequentialSampler(dataset if dataset is not None else self.train_dataset)

    trainer = (SFTTrainer if SHUFFLE else InOrderSFTTrainer)(
        model=BASE_MODEL,
        args=args,
        train_dataset=train,
        eval_dataset=val,
        processing_class=tok,
        peft_config=peft_config,
        callbacks=[timed_checkpoints(TrainerCallback, CHECKPOINT_SECONDS)] if CHECKPOINT_SECONDS > 0 else None,
    )
    trainer.train()
    if val is not None:
        print(f"validation loss: {trainer.evaluate()['eval_loss']:.4f}")
    trainer.save_model(str(HERE / "adapter"))
    print(f"adapter saved to {HERE / 'adapter'}")


if __name__ == "__main__":
    main()
`;
}
