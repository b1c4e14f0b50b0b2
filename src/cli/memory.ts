// Memory for the CLI's training and evaluation (DESIGN §8): the budget (--memory-budget, else what the machine
// allows), the planner's choice of plan, weight storage and chunks, and the upload of the weights tensor by
// tensor in that storage. Peak memory for metrics.jsonl: the process's peak RSS, or live GPU buffer bytes.
import os from 'node:os';
import { UserError } from '../engine/errors';
import { DeviceModel } from '../engine/model/device';
import type { ModelReader } from '../engine/model/weights';
import { gpuMemory } from '../engine/runtime/gpu-counters';
import type { Runtime } from '../engine/runtime/types';
import { bucket, type Example } from '../engine/train/batches';
import type { TrainConfig } from '../engine/train/config';
import type { PlanKind } from '../engine/train/plan';
import { planMemory, type MemoryPlan } from '../engine/train/planner';

const MiB = 2 ** 20;

export interface MemoryArgs {
  /** --memory-budget in MiB */
  budgetMiB?: number;
  /** --plan */
  plan?: 'auto' | PlanKind;
}

export function parsePlan(v: string | undefined): 'auto' | PlanKind | undefined {
  if (v === undefined) return undefined;
  if (v === 'auto' || v === 'whole' || v === 'layerwise') return v;
  throw new UserError(`--plan must be auto, whole or layerwise (got ${v})`);
}

/** The default budget: most of the machine's memory (the WASM heap stops at 4 GiB). */
function defaultBudget(rt: Runtime): number {
  const host = Math.floor(os.totalmem() * 0.85);
  return rt.info.backend === 'wasm' ? Math.min(host, 4 * 1024 * MiB) : host;
}

/** Picks the plan for these examples and uploads the weights in its storage dtype. */
export async function placeModel(
  reader: ModelReader,
  rt: Runtime,
  train: Pick<TrainConfig, 'batchSize' | 'maxLen' | 'rank' | 'targets' | 'packing'>,
  examples: Example[],
  mem: MemoryArgs,
  quiet: boolean,
  evaluate = false,
): Promise<{ device: DeviceModel; plan: MemoryPlan }> {
  const longest = Math.max(1, ...examples.map((e) => e.input_ids.length));
  const seqLen = train.packing ? train.maxLen : bucket(longest, 16, Math.max(16, train.maxLen));
  const context = reader.config.max_position_embeddings;
  if (context && longest > context)
    throw new UserError(
      `a row has ${longest} tokens, beyond the model's context of ${context}; lower --max-len`,
    );
  const source16 = [...reader.dtypes.values()].every((d) => d === 'BF16' || d === 'F16');
  const plan = planMemory({
    config: reader.config,
    train,
    seqLen,
    backend: rt.info.backend,
    f16: rt.info.backend !== 'webgpu' || rt.info.f16,
    source16,
    evaluate,
    budget: mem.budgetMiB !== undefined ? mem.budgetMiB * MiB : defaultBudget(rt),
    maxBinding: rt.info.maxStorageBufferBindingSize,
    force: mem.plan === 'auto' ? undefined : mem.plan,
  });
  if (!quiet) {
    const how = plan.plan === 'layerwise' ? 'layer-wise' : 'whole-model';
    process.stderr.write(
      `memory: ${how} plan, predicted peak ${Math.round(plan.peak / MiB)} MiB of ${Math.round(plan.budget / MiB)} MiB` +
        (plan.notes.length ? ` (${plan.notes.join('; ')})` : '') +
        '\n',
    );
  }
  const device = await DeviceModel.upload(
    rt,
    { config: reader.config, tensors: () => reader.tensors() },
    { storage: plan.storage },
  );
  return { device, plan };
}

/** Peak memory so far in MiB: live GPU buffers on WebGPU, else the process's peak resident set. */
export function peakMiB(rt: Runtime): number {
  if (rt.info.backend === 'webgpu') return Math.round(gpuMemory().peak / MiB);
  return Math.round((process.resourceUsage().maxRSS * 1024) / MiB);
}
