// adapter_config.json as PEFT writes it: target_modules as module names, "all-linear", or full module paths
// (PEFT 0.21 saves the matched paths, e.g. model.layers.0.self_attn.q_proj); unsupported targets are refused.
import { describe, expect, it } from 'vitest';
import { parseAdapterConfig } from './peft';

const base = { peft_type: 'LORA', task_type: 'CAUSAL_LM', r: 4, lora_alpha: 8, bias: 'none' };

describe('adapter_config.json', () => {
  it('reads module names, all-linear and full module paths alike', () => {
    expect(parseAdapterConfig({ ...base, target_modules: ['v_proj', 'q_proj'] }).targets).toEqual([
      'q_proj',
      'v_proj',
    ]);
    expect(parseAdapterConfig({ ...base, target_modules: 'all-linear' }).targets).toHaveLength(7);
    const paths = [0, 1].flatMap((i) => [
      `model.layers.${i}.self_attn.q_proj`,
      `model.layers.${i}.mlp.down_proj`,
    ]);
    expect(parseAdapterConfig({ ...base, target_modules: paths }).targets).toEqual(['q_proj', 'down_proj']);
  });

  it('refuses targets the engine does not train', () => {
    expect(() => parseAdapterConfig({ ...base, target_modules: ['model.embed_tokens'] })).toThrow(
      /LoRA on embed_tokens is not supported/,
    );
  });
});
