import type { ModelConfig } from './model/config.ts';
import type { QuantDType } from './quant/quant-dtype.ts';
import type { Sampler } from './sampler.ts';

/** Element types of float weights, one element each, little-endian as safetensors stores them. */
export type FloatDType = 'f32' | 'f16' | 'bf16';

/**
 * Storage type of a weight as it sits in the backend's memory: a float type, or one of ggml's
 * block-quantized types (Q8_0, Q4_0, Q4_K, Q6_K; a matrix whose rows are whole blocks).
 */
export type WeightDType = FloatDType | QuantDType;

/**
 * A weight owned by a backend. Matrices are (rows, cols) row-major with rows = outputs, cols =
 * inputs (PyTorch `nn.Linear` layout); vectors are (1, n).
 */
export interface Weight {
  /** The canonical tensor name (see model/weights.ts), for error messages. */
  readonly name: string;
  readonly rows: number;
  readonly cols: number;
  readonly dtype: WeightDType;
}

/** A float32 activation matrix (rows, cols) owned by a backend. */
export interface Activation {
  readonly rows: number;
  readonly cols: number;
}

/** Keys and values of every layer: (L, S, Hkv * D) each. */
export interface KvCache {
  readonly L: number;
  readonly S: number;
  readonly width: number;
}

/**
 * What a backend must do for the forward pass in `model/forward.ts`. Outputs come first. A backend
 * may run each op at once (CPU) or record it and run the whole pass when {@link Backend.read} or
 * {@link Backend.flush} is called (WebGPU: one command buffer per call of the forward pass).
 *
 * `T` is the number of rows that are live in this call; activations are allocated for the largest T
 * once and reused, so ops take T explicitly instead of reading `rows`. T (and `n` of copyRows,
 * `rows` of read) is an integer in 1 .. the rows allocated, never 0: the forward pass never runs
 * over no tokens (prefill refuses an empty prompt), so a 0 is a caller's bug and fails loudly
 * rather than doing nothing. An op's `out` is never one of its inputs (a GPU dispatch cannot
 * bind one buffer both read-only and writable), and every tensor passed to an op was created by
 * the same backend.
 *
 * Backends trust their arguments: {@link checkedBackend} (checked-backend.ts) checks every call
 * against this contract once, for every backend, and `createBackend` hands out checked ones.
 */
export interface Backend {
  readonly kind: 'cpu' | 'webgpu';

  // ---- allocation: load time only, never per token ----
  /** An empty weight of the given shape; fill it with {@link writeWeight}. */
  createWeight(name: string, rows: number, cols: number, dtype: WeightDType): Weight;
  /**
   * Copies raw little-endian elements of `w.dtype` into `w` starting at element `offset`
   * (row-major). Weights are filled piece by piece while the file streams in. A quantized weight
   * takes raw ggml blocks: whole blocks, from an `offset` that starts one.
   */
  writeWeight(w: Weight, offset: number, bytes: Uint8Array): void;
  createActivation(rows: number, cols: number): Activation;
  createKvCache(L: number, S: number, width: number): KvCache;

  // ---- ops ----
  /** out (T, C) = tokEmb[ids[t]] (+ posEmb[pos0 + t] when given). */
  embed(out: Activation, ids: Int32Array, T: number, tokEmb: Weight, posEmb: Weight | null, pos0: number): void;
  /** out (T, C) = LayerNorm(inp) * weight + bias. */
  layerNorm(out: Activation, inp: Activation, weight: Weight, bias: Weight, T: number, eps: number): void;
  /** out (T, C) = inp / rms(inp) * weight. */
  rmsNorm(out: Activation, inp: Activation, weight: Weight, T: number, eps: number): void;
  /**
   * x (T, C) += inp (T, C), then out (T, C) = norm(x): LayerNorm with `bias`, RMSNorm when `bias`
   * is null. The residual add of one block fused with the next block's norm (one pass, one
   * dispatch on a GPU).
   */
  addNorm(out: Activation, x: Activation, inp: Activation, weight: Weight, bias: Weight | null, T: number, eps: number): void;
  /** out (T, O) = inp (T, I) @ w^T (w is (O, I)) + bias (O). A matvec when T is 1. */
  matmul(out: Activation, inp: Activation, w: Weight, bias: Weight | null, T: number): void;
  /**
   * Multi-head causal self-attention of the rows of `qkv` (T, (H + 2 Hkv) D) = [q | k | v] at
   * positions pos0 .. pos0 + T - 1. For RoPE models (`cfg.position` 'rope') first rotates the q
   * heads and the k heads in place, rotate-half layout (pairs i and i + D/2). Then stores k and v
   * of these positions in `layer`'s cache, and computes out (T, H D) = causal softmax(q k^T /
   * sqrt(D)) v over cache positions 0 .. pos0 + t, query head h reading key/value head
   * floor(h / (H / Hkv)). One op, so that a GPU rotates and stores in one pass.
   */
  attention(out: Activation, qkv: Activation, kv: KvCache, layer: number, T: number, pos0: number, cfg: ModelConfig): void;
  /** out (T, F) = gelu_tanh(inp (T, F)). */
  gelu(out: Activation, inp: Activation, T: number): void;
  /**
   * SwiGLU's gated projection: out (T, F) = silu(inp @ Wgate^T) * (inp @ Wup^T) for w (2F, I) =
   * [gate | up] stacked by rows. `scratch` (T, 2F) may receive the product inp @ w^T on the way;
   * a backend that fuses the activation into the matmul (WebGPU's decode) leaves it untouched.
   */
  swiglu(out: Activation, inp: Activation, w: Weight, scratch: Activation, T: number): void;
  /** out (T, C) += inp (T, C): the residual stream. */
  addInPlace(out: Activation, inp: Activation, T: number): void;
  /** out (n, cols) = inp rows srcRow .. srcRow + n - 1. */
  copyRows(out: Activation, inp: Activation, srcRow: number, n: number): void;

  // ---- results ----
  /** Runs what was recorded and copies `act` rows 0 .. rows-1 into `into` (rows * cols floats). */
  read(act: Activation, rows: number, into: Float32Array): Promise<void>;
  /**
   * Runs what was recorded and returns the largest value of row 0 of `act` and its column: greedy
   * decoding's choice without reading the row back (8 bytes from a GPU instead of 4 V). Ties go
   * to the lowest column and NaN loses to any number, as in the sampler; `value` is NaN only for
   * a row of NaN.
   */
  readArgmax(act: Activation): Promise<{ index: number; value: number }>;
  /**
   * Runs what was recorded and returns the token `sampler` picks from row 0 of `act` with the
   * uniform number `random` in [0, 1): exactly `sampler.pick(row, random)` (temperature, top-k,
   * top-p, min-p; no repetition penalty), without reading the row back (8 bytes from a GPU).
   * Throws GptError 'internal' when no logit of the row is a number above -Infinity.
   */
  readSample(act: Activation, sampler: Sampler, random: number): Promise<number>;
  /** Runs what was recorded without reading anything back. */
  flush(): Promise<void>;

  // ---- load time ----
  /**
   * Readies, ahead of the first token, what the ops that `plan` calls will need, so no op
   * compiles on first use: WebGPU runs `plan` without recording anything, only to learn which
   * pipelines it dispatches, and creates them all with createComputePipelineAsync in parallel;
   * the CPU waits for its WebAssembly kernels' compilation and does not call `plan`.
   * `onProgress` counts what was readied.
   */
  prepare(plan: () => void, onProgress?: (done: number, total: number) => void): Promise<void>;

  /** Frees every buffer this backend created. The backend is unusable afterwards. */
  destroy(): void;

  /** Bytes this backend holds (weights, activations, KV cache, scratch): memory reports, leak checks. */
  readonly bytesAllocated: number;
}
