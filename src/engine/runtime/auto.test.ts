// `--backend auto` never picks a software WebGPU adapter: with only SwiftShader's Vulkan driver, Dawn's
// adapter is found (and works for the tests) but does not count as a hardware GPU.
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { hasHardwareGpu } from './node_node';

const swiftshader = '/usr/lib/chromium/vk_swiftshader_icd.json';

describe('hardware GPU probe', () => {
  it.skipIf(!existsSync(swiftshader))(
    'does not count SwiftShader',
    async () => {
      process.env.VK_ICD_FILENAMES = swiftshader;
      expect(await hasHardwareGpu()).toBe(false);
      // …for the right reason: Dawn did find an adapter, and it is SwiftShader
      const gpu = (
        globalThis as {
          navigator?: { gpu?: { requestAdapter(): Promise<{ info: { architecture: string } } | null> } };
        }
      ).navigator?.gpu;
      const adapter = await gpu?.requestAdapter();
      expect(adapter?.info.architecture).toBe('swiftshader');
    },
    60_000,
  );
});
