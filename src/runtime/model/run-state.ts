import type { Activation, Backend, KvCache } from '../backend.ts';
import type { ModelConfig } from './config.ts';

/**
 * Scratch activations and the KV cache of one model instance. Allocated once for the largest
 * forward call (`Tmax` tokens) and the context length `S`; every forward call reuses them, so a
 * decode step allocates nothing.
 */
export interface RunState {
  readonly Tmax: number;
  readonly S: number;
  readonly x: Activation; // (Tmax, C) residual stream
  readonly xb: Activation; // (Tmax, C) normalised input of a block
  readonly qkv: Activation; // (Tmax, (H + 2 Hkv) D) stacked q | k | v
  readonly att: Activation; // (Tmax, H D) attention output before the projection
  readonly proj: Activation; // (Tmax, C) output of a projection back to the residual width
  readonly up: Activation; // (Tmax, F) for GELU, (Tmax, 2F) [gate | up] for SwiGLU
  readonly hidden: Activation; // (Tmax, F) the activated MLP hidden layer
  readonly last: Activation; // (1, C) the last row, when only its logits are wanted
  readonly logits: Activation; // (Tmax, V)
  readonly kv: KvCache; // (L, S, Hkv D) keys and values
}

/** The activations of a {@link RunState}. */
export type ActivationName = Exclude<keyof RunState, 'Tmax' | 'S' | 'kv'>;

/** Tokens of the largest forward call: prefill runs in chunks of `prefillChunk` (default 64), never more than S. */
export function forwardRows(S: number, prefillChunk: number | undefined): number {
  return Math.min(prefillChunk ?? 64, S);
}

/**
 * (rows, cols) of each activation of the run state for `Tmax` tokens: what {@link createRunState}
 * allocates, and what a loader checks against a GPU's limits before it downloads anything.
 */
export function activationShapes(cfg: ModelConfig, Tmax: number): Readonly<Record<ActivationName, readonly [number, number]>> {
  const { C, H, Hkv, D, F, V } = cfg;
  return {
    x: [Tmax, C],
    xb: [Tmax, C],
    qkv: [Tmax, (H + 2 * Hkv) * D],
    att: [Tmax, H * D],
    proj: [Tmax, C],
    up: [Tmax, cfg.mlp === 'swiglu' ? 2 * F : F],
    hidden: [Tmax, F],
    last: [1, C],
    logits: [Tmax, V],
  };
}

/** Floats per position of one layer's keys (and as many of its values): Hkv heads of D. */
export function kvWidth(cfg: ModelConfig): number {
  return cfg.Hkv * cfg.D;
}

export function createRunState(b: Backend, cfg: ModelConfig, Tmax: number, S: number): RunState {
  const shapes = activationShapes(cfg, Tmax);
  const act = (name: ActivationName) => b.createActivation(...shapes[name]);
  return {
    Tmax,
    S,
    x: act('x'),
    xb: act('xb'),
    qkv: act('qkv'),
    att: act('att'),
    proj: act('proj'),
    up: act('up'),
    hidden: act('hidden'),
    last: act('last'),
    logits: act('logits'),
    kv: b.createKvCache(cfg.L, S, kvWidth(cfg)),
  };
}
