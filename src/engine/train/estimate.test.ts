// Estimates on the real shapes of SmolLM2-135M and Llama-3.2-1B, and the refusal of what cannot bind.
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../model/config';
import { resolveTrainConfig } from './config';
import { estimateTraining, wontFit } from './estimate';
import { SMOLLM2_135M_CONFIG } from '../testing/random';

const smol = parseConfig(SMOLLM2_135M_CONFIG);
const llama1b = parseConfig({
  model_type: 'llama',
  hidden_size: 2048,
  intermediate_size: 8192,
  num_hidden_layers: 16,
  num_attention_heads: 32,
  num_key_value_heads: 8,
  head_dim: 64,
  vocab_size: 128256,
  rms_norm_eps: 1e-5,
  tie_word_embeddings: true,
  max_position_embeddings: 131072,
});

describe('training estimates', () => {
  it('counts SmolLM2-135M parameters and LoRA size exactly', () => {
    const e = estimateTraining(smol, resolveTrainConfig({}));
    expect(e.baseParams).toBe(134_515_008);
    // r=8 on q_proj (576→576) and v_proj (576→192) in 30 layers
    expect(e.trainableParams).toBe(30 * 8 * (576 + 576 + 576 + 192));
    expect(e.weights).toBe(e.baseParams * 4);
    expect(wontFit(e, { maxStorageBufferBindingSize: 256 << 20 })).toBeNull();
    expect(wontFit(e, { maxStorageBufferBindingSize: 128 << 20 })).toMatch(/attention scores needs 144 MiB/);
  });

  it('refuses clearly what cannot bind', () => {
    // the 1002 MiB embedding is split over the vocabulary (model/vocab.ts), so it never decides
    const e = estimateTraining(llama1b, resolveTrainConfig({}));
    expect(e.largest).toEqual({ name: 'attention scores', bytes: 4 * 32 * 1024 * 1024 * 4 });
    expect(wontFit(e, { maxStorageBufferBindingSize: 1 << 30 })).toBeNull();
    expect(wontFit(e, { maxStorageBufferBindingSize: 256 << 20 })).toMatch(/attention scores needs 512 MiB/);
    const short = estimateTraining(llama1b, resolveTrainConfig({ batchSize: 1, maxLen: 256 }), 256);
    expect(short.largest.name).toBe('model.layers.0.mlp.gate_proj.weight'); // 64 MiB
    expect(wontFit(short, { maxStorageBufferBindingSize: 32 << 20 })).toMatch(
      /gate_proj\.weight needs 64 MiB .* too large/,
    );
    const big = estimateTraining(smol, resolveTrainConfig({ batchSize: 16, maxLen: 4096 }), 4096);
    expect(wontFit(big, { maxStorageBufferBindingSize: 1 << 30 })).toMatch(
      /attention scores .* lower the batch size or max length/,
    );
  });
});
