// axolotl.yaml of the cluster bundle (recipes.ts): the run's settings under Axolotl's key names (checked
// against Axolotl 0.18's config schema). Chat rows use type chat_template with roles_to_train [assistant]
// (the reply and its end-of-turn token, as the studio trains); text rows type completion; token rows
// Axolotl's pre-tokenized form (type left empty).
import type { TrainConfig } from '../train/config';
import { resolveTargets } from '../train/config';
import { hfScheduler } from './recipe-trl';
import { yamlFloat, yamlScalar } from './recipe-values';

/** Where each kind of row lives for Axolotl (a path inside the bundle), when the data has that kind. */
export interface AxolotlData {
  chat?: string;
  text?: string;
  tokens?: string;
}

export interface AxolotlOptions {
  baseModel: string;
  train: TrainConfig;
  data: AxolotlData;
  /** chat_template.jinja is in the bundle; without it the model has no template and turns are joined. */
  hasTemplate: boolean;
  templateKwargs: Record<string, unknown>;
}

/** Turns joined by a blank line and EOS at the end, as the studio lays out chat rows for a model without one. */
const CONCAT_TEMPLATE =
  "{% for m in messages %}{% if not loop.first %}{{ '\\n\\n' }}{% endif %}{{ m['content'] }}{% endfor %}" +
  '{% if not add_generation_prompt %}{{ eos_token }}{% endif %}';

const list = (xs: readonly string[]) => `[${xs.map((x) => JSON.stringify(x)).join(', ')}]`;

export function axolotlYaml(o: AxolotlOptions): string {
  const c = o.train;
  const y: string[] = [
    `# Axolotl config: LoRA fine-tuning of ${o.baseModel} with the settings of a LoRA Studio run.`,
    '# Install (after a CUDA build of torch): pip install --no-build-isolation "axolotl[flash-attn]==0.18.0"',
    '# Run from this folder: axolotl train axolotl.yaml',
    `base_model: ${yamlScalar(o.baseModel)}`,
    '',
  ];
  if (o.data.chat) {
    if (o.hasTemplate) {
      y.push('chat_template: jinja', 'chat_template_jinja: ./chat_template.jinja');
    } else {
      y.push('# the model has no chat template: turns are joined by a blank line, EOS at the end');
      y.push('chat_template: jinja', `chat_template_jinja: ${JSON.stringify(CONCAT_TEMPLATE)}`);
    }
    const kwargs = Object.entries(o.templateKwargs);
    if (kwargs.length) {
      y.push('chat_template_kwargs:');
      for (const [k, v] of kwargs) y.push(`  ${k}: ${yamlValue(v)}`);
    }
  }
  y.push('datasets:');
  if (o.data.chat) {
    y.push(
      `  - path: ${o.data.chat}`,
      '    ds_type: json',
      '    type: chat_template',
      '    field_messages: messages',
      '    roles_to_train: ["assistant"]',
      '    train_on_eos: turn',
    );
  }
  if (o.data.text) y.push(`  - path: ${o.data.text}`, '    ds_type: json', '    type: completion');
  if (o.data.tokens) {
    y.push(`  - path: ${o.data.tokens}`, '    ds_type: json', '    type:  # pre-tokenized');
  }
  y.push(
    `train_on_inputs: ${yamlScalar(c.trainOnPrompt)}`,
    `val_set_size: ${yamlFloat(c.valSplit)}`,
    'dataset_prepared_path: ./last_run_prepared',
    `shuffle_merged_datasets: ${yamlScalar(c.shuffle)}`,
  );
  if (!c.shuffle) y.push('curriculum_sampling: true  # rows in file order: the studio run had shuffling off');
  y.push('output_dir: ./axolotl-out', '');

  y.push(`sequence_len: ${c.maxLen}`, `sample_packing: ${yamlScalar(c.packing)}`);
  if (c.packing) {
    y.push('flash_attention: true  # packed rows attend only within themselves');
    if (!c.shuffle) y.push('sample_packing_sequentially: true');
  }
  y.push('', 'adapter: lora', `lora_r: ${c.rank}`, `lora_alpha: ${yamlScalar(c.alpha)}`);
  y.push(`lora_dropout: ${yamlFloat(c.dropout)}`);
  if (c.targets === 'all-linear') y.push('lora_target_linear: true');
  else y.push(`lora_target_modules: ${list(resolveTargets(c.targets))}`);
  y.push(`peft_use_rslora: ${yamlScalar(c.rslora)}`, '');

  y.push(`micro_batch_size: ${c.batchSize}`, `gradient_accumulation_steps: ${c.gradAccum}`);
  if (c.steps > 0) y.push(`max_steps: ${c.steps}`);
  else y.push(`num_epochs: ${yamlFloat(c.epochs)}`);
  y.push(
    'optimizer: adamw_torch',
    `learning_rate: ${yamlFloat(c.lr)}`,
    `lr_scheduler: ${hfScheduler(c)}`,
    `warmup_steps: ${c.warmup}`,
    `weight_decay: ${yamlFloat(c.weightDecay)}`,
    `max_grad_norm: ${yamlFloat(c.maxGradNorm)}  # 0 = no clipping`,
    `seed: ${c.seed}`,
  );
  if (c.valSplit > 0 && c.evalEvery > 0) y.push(`eval_steps: ${c.evalEvery}`);
  else if (c.valSplit > 0) y.push('eval_strategy: epoch');
  if (c.checkpointEvery > 0) y.push(`save_steps: ${c.checkpointEvery}`);
  y.push('', 'bf16: auto', 'tf32: false', 'gradient_checkpointing: true', 'logging_steps: 1', '');
  return y.join('\n');
}

function yamlValue(v: unknown): string {
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return yamlScalar(v);
  return JSON.stringify(v ?? null);
}
