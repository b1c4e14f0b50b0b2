// A lost WebGPU device (a GPU reset, a driver update, the browser reclaiming the GPU, destroy()): every tensor,
// session and buffer of it is gone, so the runtime that owned it answers every later call with this error and
// its owner opens a new runtime (a new device) and uploads the weights again. Reason and message as WebGPU's
// GPUDeviceLostInfo gives them.
import { UserError } from '../errors';

export interface DeviceLostInfo {
  /** 'destroyed' (destroy() was called) or 'unknown' (a reset, a crash of the GPU process). */
  reason: string;
  message: string;
}

export class DeviceLostError extends UserError {
  override name = 'DeviceLostError';
  constructor(readonly info: DeviceLostInfo) {
    super(`the GPU was reset (device lost${info.message ? `: ${info.message}` : ''})`);
  }
}

/** Also true for an error that crossed a worker boundary (comlink keeps the name, not the class). */
export const isDeviceLost = (e: unknown): boolean =>
  e instanceof DeviceLostError || (e instanceof Error && e.name === 'DeviceLostError');
