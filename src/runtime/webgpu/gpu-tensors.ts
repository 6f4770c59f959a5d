import type { Activation, KvCache, Weight } from '../backend.ts';
import { GptError } from '../../errors.ts';
import { GpuWeight } from './gpu-weight.ts';

// The WebGPU backend's activations and KV cache, and the argument checks its ops share.

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

/** Throws GptError 'bad-argument' naming `op` and what is wrong unless `ok`. */
export function need(ok: boolean, op: string, what: string): asserts ok {
  if (!ok) throw new GptError('bad-argument', `${op}: ${what}. Hint: this is a bug in the caller of the WebGPU backend.`);
}

/** Checks that T rows fit every activation given. */
export function rowsFit(T: number, op: string, ...acts: GpuActivation[]): void {
  for (const a of acts) need(Number.isInteger(T) && T >= 0 && T <= a.rows, op, `T is ${T} but an activation has ${a.rows} rows`);
}

/** `a` as an activation of the WebGPU backend, or GptError 'bad-argument'. */
export function asAct(a: Activation, op: string, name: string): GpuActivation {
  if (!(a instanceof GpuActivation)) throw new GptError('bad-argument', `${op}: ${name} is not an activation of this WebGPU backend. Hint: create it with the same backend.`);
  return a;
}

/** `w` as a weight of the WebGPU backend, or GptError 'bad-argument'. */
export function asWeight(w: Weight, op: string): GpuWeight {
  if (!(w instanceof GpuWeight)) throw new GptError('bad-argument', `${op}: the weight is not one of this WebGPU backend. Hint: create it with the same backend.`);
  return w;
}

/** The f32 buffer of a (1, n) weight (vectors are widened to f32 on write, see GpuWeight). */
export function vector(w: Weight, n: number, op: string, name: string): GPUBuffer {
  const v = asWeight(w, op);
  need(v.rows === 1 && v.cols === n, op, `${name} "${v.name}" is (${v.rows}, ${v.cols}), (1, ${n}) expected`);
  return v.parts[0].buffer;
}
