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

export function createRunState(b: Backend, cfg: ModelConfig, Tmax: number, S: number): RunState {
  const { C, H, Hkv, D, F, V, L } = cfg;
  const upWidth = cfg.mlp === 'swiglu' ? 2 * F : F;
  return {
    Tmax,
    S,
    x: b.createActivation(Tmax, C),
    xb: b.createActivation(Tmax, C),
    qkv: b.createActivation(Tmax, (H + 2 * Hkv) * D),
    att: b.createActivation(Tmax, H * D),
    proj: b.createActivation(Tmax, C),
    up: b.createActivation(Tmax, upWidth),
    hidden: b.createActivation(Tmax, F),
    last: b.createActivation(1, C),
    logits: b.createActivation(Tmax, V),
    kv: b.createKvCache(L, S, Hkv * D),
  };
}
