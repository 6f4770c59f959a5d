import type { ModelConfig } from '../../src/runtime/model/config.ts';

/**
 * A small Llama-style ModelConfig for op-level tests (RMSNorm, RoPE, SwiGLU, no biases, untied),
 * with `over` on top: tests set the dimensions they exercise.
 */
export function llamaConfig(over: Partial<ModelConfig> = {}): ModelConfig {
  const D = over.D ?? 4;
  return {
    modelType: 'llama',
    L: 1,
    C: 8,
    H: 2,
    Hkv: 1,
    D,
    F: 8,
    V: 6,
    maxPositions: 16,
    norm: 'rmsnorm',
    normEps: 1e-5,
    position: 'rope',
    ropeInvFreq: Float32Array.from({ length: D / 2 }, (_, i) => 10000 ** (-(2 * i) / D)),
    mlp: 'swiglu',
    qkvBias: false,
    projBias: false,
    tiedHead: false,
    bosTokenId: null,
    eosTokenIds: [],
    ...over,
  };
}
