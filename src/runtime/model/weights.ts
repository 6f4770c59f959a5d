import type { Weight } from '../backend.ts';

/**
 * The weights of one transformer block in the canonical layout the forward pass reads. Q = H D,
 * K = Hkv D. Checkpoint tensors are mapped onto these at load time (GPT-2's Conv1D (in, out)
 * matrices are transposed, Llama's q/k/v and gate/up projections are stacked), so the forward pass
 * has one shape for every architecture.
 */
export interface LayerWeights {
  readonly attnNormW: Weight; // (1, C)
  readonly attnNormB: Weight | null; // (1, C), LayerNorm only
  readonly wqkv: Weight; // (Q + 2K, C): rows [q | k | v]
  readonly bqkv: Weight | null; // (1, Q + 2K)
  readonly wo: Weight; // (C, Q)
  readonly bo: Weight | null; // (1, C)
  readonly mlpNormW: Weight; // (1, C)
  readonly mlpNormB: Weight | null; // (1, C)
  readonly wUp: Weight; // gelu: (F, C); swiglu: (2F, C) rows [gate | up]
  readonly bUp: Weight | null; // (1, F), gelu only
  readonly wDown: Weight; // (C, F)
  readonly bDown: Weight | null; // (1, C)
}

export interface ModelWeights {
  readonly tokEmb: Weight; // (V, C)
  readonly posEmb: Weight | null; // (maxPositions, C), learned positions only
  readonly layers: readonly LayerWeights[]; // L
  readonly finalNormW: Weight; // (1, C)
  readonly finalNormB: Weight | null; // (1, C)
  readonly lmHead: Weight; // (V, C); the very same object as tokEmb when the head is tied
}
