// temporary profiling script (not part of deliverable)
import { createOrtRuntime, type OrtModule } from '../src/engine/runtime/common';
import { Trainer } from '../src/engine/train/trainer';
import { resolveTrainConfig } from '../src/engine/train/config';
import { DeviceModel } from '../src/engine/model/device';
import { Generator } from '../src/engine/generate/generator';
import { parseConfig } from '../src/engine/model/config';
import { expectedWeights } from '../src/engine/model/weights';
const layers = Number(process.argv[2] ?? 30);
const ort = (await import('onnxruntime-node')) as unknown as OrtModule;
const rt = createOrtRuntime({ ort, info: { backend: 'cpu', software: false, f16: false, threads: 2 },
  sessionOptions: () => ({ executionProviders: ['cpu'], intraOpNumThreads: 2, interOpNumThreads: 1, executionMode: 'sequential',
    enableProfiling: true, profileFilePrefix: '/tmp/benchprof/ort' }) as never });
const config = parseConfig({ model_type: 'llama', hidden_size: 576, intermediate_size: 1536, num_hidden_layers: layers, num_attention_heads: 9, num_key_value_heads: 3, head_dim: 64, vocab_size: 49152, rms_norm_eps: 1e-5, tie_word_embeddings: true });
const weights = new Map();
for (const [n, s] of expectedWeights(config)) { const d = new Float32Array(s.reduce((a, b) => a * b, 1)); for (let i = 0; i < d.length; i++) d[i] = n.endsWith('norm.weight') ? 1 : (Math.random() - 0.5) * 0.07; weights.set(n, { shape: s, data: d }); }
const model = { config, weights };
const device = await DeviceModel.upload(rt, model);
const rows = Array.from({ length: 8 }, () => { const ids = Array.from({ length: 128 }, () => Math.floor(Math.random() * 49152)); return { input_ids: ids, labels: ids }; });
const cfg = resolveTrainConfig({ rank: 8, alpha: 16, targets: ['q_proj', 'v_proj'], dropout: 0, batchSize: 2, maxLen: 128, steps: 4, shuffle: false });
const tr = await Trainer.create({ runtime: rt, model, device, config: cfg, train: rows });
for (let i = 0; i < 3; i++) console.log(await tr.trainStep());
await tr.dispose();
const gen = new Generator(device);
await gen.generate([[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]], { maxNewTokens: 32, stopIds: [] });
await gen.dispose();
await rt.release();
