// PEFT LoRA adapters: adapter_config.json + adapter_model.safetensors, read (validated against the base
// model; anything we do not support is refused by name) and written exactly as PEFT saves them.
import { UserError } from '../errors';
import type { ModelConfig } from '../model/config';
import { fromPeft, loraSpecs, peftKey, toPeft, type LoraWeights } from '../model/lora';
import { ALL_LINEAR, type TargetModule } from '../train/config';
import { parseHeader, readFloat32, writeSafetensors } from './safetensors';
import type { FileSource } from './source';

export interface AdapterMeta {
  rank: number;
  alpha: number;
  targets: TargetModule[];
  rslora: boolean;
  dropout: number;
  baseModel: string;
}

export interface Adapter {
  meta: AdapterMeta;
  weights: LoraWeights;
}

const CONFIG = 'adapter_config.json';
const WEIGHTS = 'adapter_model.safetensors';

export function parseAdapterConfig(json: unknown): AdapterMeta {
  const fail = (msg: string): never => {
    throw new UserError(msg, CONFIG);
  };
  if (typeof json !== 'object' || json === null) fail('not a JSON object');
  const c = json as Record<string, unknown>;
  if (c.peft_type !== 'LORA') fail(`peft_type ${JSON.stringify(c.peft_type)} is not supported (only LORA)`);
  if (c.task_type !== undefined && c.task_type !== null && c.task_type !== 'CAUSAL_LM') {
    fail(`task_type ${JSON.stringify(c.task_type)} is not supported (only CAUSAL_LM)`);
  }
  if (c.use_dora) fail('DoRA adapters (use_dora) are not supported');
  if (c.fan_in_fan_out) fail('fan_in_fan_out adapters are not supported');
  if (Array.isArray(c.modules_to_save) && c.modules_to_save.length) fail('modules_to_save is not supported');
  for (const k of ['rank_pattern', 'alpha_pattern'] as const) {
    if (c[k] && typeof c[k] === 'object' && Object.keys(c[k] as object).length) fail(`${k} is not supported`);
  }
  if (c.layers_to_transform !== undefined && c.layers_to_transform !== null)
    fail('layers_to_transform is not supported');
  if (c.bias !== undefined && c.bias !== 'none')
    fail(`bias "${String(c.bias)}" is not supported (only "none")`);
  const r = c.r;
  if (typeof r !== 'number' || !Number.isInteger(r) || r <= 0) fail('r must be a positive integer');
  const alpha = c.lora_alpha ?? r;
  if (typeof alpha !== 'number' || !(alpha > 0)) fail('lora_alpha must be a positive number');
  let targets: TargetModule[];
  const tm = c.target_modules;
  if (tm === 'all-linear') targets = [...ALL_LINEAR];
  else if (Array.isArray(tm) && tm.every((t) => typeof t === 'string')) {
    // PEFT matches names by suffix and saves full paths too (model.layers.0.self_attn.q_proj); the tensors
    // present are checked against every layer below, so a partial list of layers is refused there
    const names = [...new Set(tm.map((t) => t.split('.').pop()!))];
    const bad = names.filter((t) => !(ALL_LINEAR as readonly string[]).includes(t));
    if (bad.length)
      fail(`LoRA on ${bad.join(', ')} is not supported; supported targets: ${ALL_LINEAR.join(', ')}`);
    targets = ALL_LINEAR.filter((t) => names.includes(t));
  } else {
    targets = fail('target_modules must be a list of module names or "all-linear"');
  }
  return {
    rank: r as number,
    alpha: alpha as number,
    targets,
    rslora: c.use_rslora === true,
    dropout: typeof c.lora_dropout === 'number' ? c.lora_dropout : 0,
    baseModel: typeof c.base_model_name_or_path === 'string' ? c.base_model_name_or_path : '',
  };
}

/** Reads a PEFT adapter and checks it against the base model's shapes. */
export async function readAdapter(src: FileSource, base: ModelConfig): Promise<Adapter> {
  if (!(await src.has(CONFIG))) throw new UserError(`no ${CONFIG}: not a PEFT adapter folder`, src.label);
  let json: unknown;
  try {
    json = JSON.parse(await src.text(CONFIG));
  } catch (e) {
    throw new UserError(`invalid JSON (${(e as Error).message})`, CONFIG);
  }
  const meta = parseAdapterConfig(json);
  if (!(await src.has(WEIGHTS))) {
    throw new UserError(
      `no ${WEIGHTS} (adapter_model.bin pickles are not read; save with safetensors)`,
      src.label,
    );
  }
  const bytes = await src.bytes(WEIGHTS);
  const header = parseHeader(bytes, WEIGHTS);
  const specs = loraSpecs(base, meta.targets);
  const tensors = new Map<string, Float32Array>();
  const expected = new Set<string>();
  for (const s of specs) {
    for (const [which, shape] of [
      ['A', [meta.rank, s.in]],
      ['B', [s.out, meta.rank]],
    ] as const) {
      const key = peftKey(s, which);
      expected.add(key);
      // PEFT also writes keys without the adapter name; some tools add ".default"
      const entry = header.entries.get(key) ?? header.entries.get(key.replace('.weight', '.default.weight'));
      if (!entry)
        throw new UserError(`missing tensor ${key}: the adapter does not fit this base model`, WEIGHTS);
      if (entry.shape.length !== 2 || entry.shape[0] !== shape[0] || entry.shape[1] !== shape[1]) {
        throw new UserError(
          `${key} has shape [${entry.shape}] but the base model needs [${shape}]: the adapter was trained for another base`,
          WEIGHTS,
        );
      }
      tensors.set(key, readFloat32(bytes, entry, WEIGHTS, key));
    }
  }
  const extra = [...header.entries.keys()].filter(
    (k) => !expected.has(k) && !expected.has(k.replace('.default.weight', '.weight')),
  );
  if (extra.length) {
    throw new UserError(
      `unexpected tensor ${extra[0]}${extra.length > 1 ? ` (and ${extra.length - 1} more)` : ''}: only LoRA A/B of ${meta.targets.join(', ')} in ${base.num_hidden_layers} layers are supported`,
      WEIGHTS,
    );
  }
  return { meta, weights: fromPeft(specs, meta.rank, tensors) };
}

/** The two files of a PEFT adapter. */
export function writeAdapter(base: ModelConfig, adapter: Adapter): Record<string, Uint8Array> {
  const { meta } = adapter;
  const specs = loraSpecs(base, meta.targets);
  const tensors = Object.fromEntries(
    Object.entries(toPeft(specs, meta.rank, adapter.weights)).map(([k, t]) => [
      k,
      { dtype: 'F32' as const, ...t },
    ]),
  );
  const config = {
    peft_type: 'LORA',
    task_type: 'CAUSAL_LM',
    r: meta.rank,
    lora_alpha: meta.alpha,
    lora_dropout: meta.dropout,
    target_modules: meta.targets,
    use_rslora: meta.rslora,
    use_dora: false,
    bias: 'none',
    fan_in_fan_out: false,
    init_lora_weights: true,
    modules_to_save: null,
    base_model_name_or_path: meta.baseModel,
    inference_mode: true,
  };
  return {
    [CONFIG]: new TextEncoder().encode(JSON.stringify(config, null, 2) + '\n'),
    [WEIGHTS]: writeSafetensors(tensors, { format: 'pt' }),
  };
}
