import { describe, expect, it } from 'vitest';
import { stepNote } from './stepNote';

describe('stepNote', () => {
  it('explains the WebAssembly warm-up during the first three steps', () => {
    expect(stepNote('wasm', 0, 1, 12.7)).toBe(
      'step 1 running for 12 s: the first steps on WebAssembly are slower while the browser optimises the engine',
    );
    expect(stepNote('wasm', 2, 3, 0.4)).toContain('optimises the engine');
    expect(stepNote('wasm', 3, 4, 0.4)).toBeNull();
  });

  it('explains shader compilation on the first WebGPU step only', () => {
    expect(stepNote('webgpu', 0, 1, 30)).toBe(
      'step 1 running for 30 s: the first step compiles the GPU kernels',
    );
    expect(stepNote('webgpu', 1, 2, 1)).toBeNull();
  });

  it('shows how long a slow later step has run', () => {
    expect(stepNote('webgpu', 5, 6, 4.2)).toBe('step 6 running for 4 s');
  });
});
