import type { Activation, KvCache } from '../backend.ts';
import { GptError } from '../../errors.ts';

// The WebGPU backend's activations and KV cache.

/** A float32 activation in one GPU buffer. */
export class GpuActivation implements Activation {
  constructor(
    readonly rows: number,
    readonly cols: number,
    readonly buffer: GPUBuffer, // (rows, cols) f32
  ) {}
}

/** Keys and values of every layer, one buffer per layer and kind so each fits one binding. */
export class GpuKvCache implements KvCache {
  constructor(
    readonly L: number,
    readonly S: number,
    readonly width: number,
    readonly k: readonly GPUBuffer[], // L x (S, width) f32
    readonly v: readonly GPUBuffer[], // L x (S, width) f32
  ) {}
}

/**
 * Throws GptError 'bad-argument' with `message` unless `ok`: for what only this backend cannot do
 * (the Backend contract itself is checked by checked-backend.ts).
 */
export function need(ok: boolean, message: string): asserts ok {
  if (!ok) throw new GptError('bad-argument', message);
}
