// "Outgrowing the browser": the same run as a bundle for a GPU machine. data.jsonl (rows in the messages
// format), train_trl.py (TRL SFTTrainer + PEFT), train_hf.py (transformers Trainer + PEFT, no TRL),
// axolotl.yaml, chat_template.jinja (the template the studio rendered with) and a README saying how to run each
// and what differs from the studio. Text only, DOM-free: the CLI writes the files into a folder, the studio
// zips them.
import type { Row } from '../../data/rows';
import { toJsonl } from '../../data/formats';
import { UserError } from '../errors';
import { defaultTemplateKwargs } from '../text/template';
import type { TrainConfig } from '../train/config';
import { resolveTargets } from '../train/config';
import { axolotlYaml, type AxolotlData } from './recipe-axolotl';
import { HF_PIP, hfScript } from './recipe-hf';
import { hfScheduler, TRL_PIP, trlScript } from './recipe-trl';

export interface RecipeInput {
  /** Hub repo id or model folder path, written as the scripts' base model. */
  baseModel: string;
  train: TrainConfig;
  rows: readonly Row[];
  /** config.json model_type: picks the template kwargs (Qwen3: enable_thinking false). */
  modelType: string;
  /** The chat template the studio renders rows with; absent for a model without one. */
  chatTemplate?: string;
  /** Template kwargs when they differ from defaultTemplateKwargs(modelType). */
  templateKwargs?: Record<string, unknown>;
}

/** Every file name a bundle can hold: a rewrite removes those the new bundle lacks. */
export const RECIPE_FILES = [
  'README.md',
  'data.jsonl',
  'train_trl.py',
  'train_hf.py',
  'axolotl.yaml',
  'chat_template.jinja',
  'axolotl/chat.jsonl',
  'axolotl/text.jsonl',
  'axolotl/tokens.jsonl',
] as const;

/** File name → text of the bundle. */
export function clusterRecipe(input: RecipeInput): Record<string, string> {
  const { train: c, rows } = input;
  if (rows.length === 0) throw new UserError('the dataset has no rows');
  resolveTargets(c.targets);
  const templateKwargs = input.templateKwargs ?? defaultTemplateKwargs(input.modelType);
  const hasTemplate = input.chatTemplate !== undefined && input.chatTemplate.trim() !== '';
  const files: Record<string, string> = { 'data.jsonl': toJsonl(rows) };
  if (hasTemplate) files['chat_template.jinja'] = input.chatTemplate!;

  // Axolotl takes one row kind per dataset entry: a mixed file is split for it; token rows need attention_mask.
  const byKind = (k: Row['kind']) => rows.filter((r) => r.kind === k);
  const kinds = (['chat', 'text', 'tokens'] as const).filter((k) => byKind(k).length > 0);
  const data: AxolotlData = {};
  for (const k of kinds) {
    if (k === 'tokens') {
      data.tokens = 'axolotl/tokens.jsonl';
      files[data.tokens] = byKind('tokens')
        .flatMap((r) => (r.kind === 'tokens' ? [tokenLine(r.input_ids, r.labels)] : []))
        .join('');
    } else if (kinds.length === 1) data[k] = 'data.jsonl';
    else files[(data[k] = `axolotl/${k}.jsonl`)] = toJsonl(byKind(k));
  }

  const common = { baseModel: input.baseModel, train: c, hasTemplate, templateKwargs };
  files['train_trl.py'] = trlScript(common);
  files['train_hf.py'] = hfScript(common);
  files['axolotl.yaml'] = axolotlYaml({ ...common, data });
  files['README.md'] = readme(input, files, hasTemplate, kinds);
  return files;
}

function tokenLine(ids: readonly number[], labels: readonly number[]): string {
  return JSON.stringify({ input_ids: ids, attention_mask: ids.map(() => 1), labels }) + '\n';
}

const KIND_NAMES: Record<string, string> = { chat: 'chat', text: 'text', tokens: 'pre-tokenized' };

function readme(
  input: RecipeInput,
  files: Record<string, string>,
  hasTemplate: boolean,
  kinds: readonly string[],
): string {
  const c = input.train;
  const targets = c.targets === 'all-linear' ? 'all-linear' : resolveTargets(c.targets).join(', ');
  const length = c.steps > 0 ? `${c.steps} optimizer steps` : `${c.epochs} epoch${c.epochs === 1 ? '' : 's'}`;
  const extra = Object.keys(files)
    .filter((f) => f.startsWith('axolotl/'))
    .map(
      (f) => `- \`${f}\`: the ${KIND_NAMES[f.slice(8, -6)]} rows of data.jsonl in the form Axolotl reads.`,
    );
  const joined =
    !hasTemplate && input.rows.some((r) => r.format === 'prompt_completion')
      ? '- **Prompt/completion rows** (no chat template): data.jsonl holds them as messages, so the recipes\n' +
        '  join prompt and completion with a blank line; the studio joins them directly.\n'
      : '';
  const settings = [
    `LoRA r ${c.rank}, alpha ${c.alpha}${c.rslora ? ' (rsLoRA)' : ''}, dropout ${c.dropout}, targets ${targets}`,
    `AdamW lr ${c.lr}, weight decay ${c.weightDecay}, schedule ${hfScheduler(c)}, warmup ${c.warmup} steps`,
    `batch ${c.batchSize} × ${c.gradAccum} accumulation, max length ${c.maxLen}, ${length}`,
    `clip ${c.maxGradNorm === 0 ? 'off' : c.maxGradNorm}, seed ${c.seed}, shuffle ${c.shuffle ? 'on' : 'off'}, ` +
      `packing ${c.packing ? 'on' : 'off'}, validation ${c.valSplit}, ` +
      (c.trainOnPrompt ? 'prompt tokens trained too' : 'assistant replies trained'),
  ];
  return `# ${input.baseModel}: LoRA run for a GPU machine

Exported from LoRA Studio: the dataset and Train settings of the studio, ready for
[TRL](https://huggingface.co/docs/trl) or [Axolotl](https://docs.axolotl.ai) on a GPU server or cluster.

${settings.map((s) => `- ${s}`).join('\n')}

## Files

- \`data.jsonl\`: the ${input.rows.length} rows (${kinds.map((k) => KIND_NAMES[k]).join(', ')}), chat rows in the \`messages\` format.
- \`train_trl.py\`: TRL \`SFTTrainer\` + PEFT \`LoraConfig\` with the settings above.
- \`train_hf.py\`: the same with transformers' \`Trainer\` + PEFT, for a machine without TRL (it imports the
  data preparation from train_trl.py; rows are padded, not packed).
- \`axolotl.yaml\`: the same settings as an Axolotl config.
${hasTemplate ? '- `chat_template.jinja`: the chat template the studio rendered the rows with (both recipes use it).\n' : ''}${extra.join('\n')}${extra.length ? '\n' : ''}
The base model is \`${input.baseModel}\`: a Hub repo id is downloaded by transformers; for a local model put its
folder there instead (\`BASE_MODEL\` in train_trl.py, \`base_model\` in axolotl.yaml).

## Run with TRL

    ${TRL_PIP}
    python train_trl.py                 # one GPU
    accelerate launch train_trl.py      # several GPUs

The adapter lands in \`./adapter\` (adapter_config.json + adapter_model.safetensors), which the studio's
Adapters & Export tab imports. The script tokenizes the rows itself with the studio's rule (the span of each
assistant turn: the reply and its end-of-turn token), so the trained tokens are the studio's, whatever the
chat template.

## Run without TRL

    ${HF_PIP}
    python train_hf.py

The adapter lands in \`./adapter\` too.

## Run with Axolotl

    pip install --no-build-isolation "axolotl[flash-attn]==0.18.0"   # after a CUDA build of torch
    axolotl train axolotl.yaml

The adapter lands in \`./axolotl-out\`. Axolotl finds the assistant turns with its own turn finder
(\`roles_to_train: [assistant]\`, \`train_on_eos: turn\`), which usually marks the same tokens as the studio;
check with \`axolotl preprocess axolotl.yaml --debug\`.${kinds.includes('text') ? ' Text rows longer than the\nmax length are split into chunks there rather than cut.' : ''}${hasTemplate ? '' : '\nWithout a chat template its jinja stand-in joins the turns as the studio does, but the BOS token comes\nonly from the template, not the tokenizer.'}

## What differs from the studio

- **Random numbers**: LoRA A starts from the same distribution (PEFT's kaiming-uniform) and B at zero, but the
  draws differ; dropout masks come from torch's generator, not the studio's hash; shuffling order and the
  held-out validation rows come from other generators (datasets' \`train_test_split\` holds out ⌈n·${c.valSplit}⌉
  rows, the studio round(n·${c.valSplit}), at least one). Same seed, different runs: compare loss curves, not
  numbers.
- **Precision**: the studio computes in float32; the recipes train in bfloat16 mixed precision where the GPU
  supports it (the TRL script falls back to float32 elsewhere).
- **Steps per epoch** (runs set by epochs): the studio counts ⌈micro-batches / accumulation⌉; transformers
  may count a last partial accumulation differently, and with packing the rows are grouped differently (TRL
  packs best-fit decreasing, the studio in order), so the number of sequences and steps can differ.
- **Validation loss**: transformers averages the per-batch losses; the studio divides the summed token
  losses by the token count over the whole split.
${joined}- **Checkpoints**: the Python scripts save to \`./checkpoints\` as the studio does (every N steps, and every
  N seconds of training through their \`timed_checkpoints\` callback); Axolotl's config can only save by steps.
- **Speed and memory**: gradient checkpointing is on (TRL's default); it changes nothing in the numbers.
`;
}
