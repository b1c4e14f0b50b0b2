// What the Train tab says while a step is running: how long it has run and, for the first steps, why they
// are slow (WebAssembly: the browser is still optimising the 26 MB engine; WebGPU: shaders are compiling),
// so a long first step reads as warm-up, not as a frozen run.

/**
 * The line shown under the progress bar while step `step` runs; null when nothing needs saying (a step
 * shorter than 3 s after the warm-up).
 */
export function stepNote(
  backend: string | undefined,
  stepsDone: number,
  step: number,
  seconds: number,
): string | null {
  const s = Math.floor(seconds);
  if (backend === 'wasm' && stepsDone < 3)
    return `step ${step} running for ${s} s: the first steps on WebAssembly are slower while the browser optimises the engine`;
  if (backend === 'webgpu' && stepsDone === 0)
    return `step ${step} running for ${s} s: the first step compiles the GPU kernels`;
  if (seconds < 3) return null;
  return `step ${step} running for ${s} s`;
}
