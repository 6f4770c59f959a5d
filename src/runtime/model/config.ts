/**
 * Normalised hyperparameters of a decoder-only GPT. Every architecture we load is this one shape;
 * what differs between GPT-2 and the Llama family is a few switches, not a different forward pass.
 *
 * Dimension letters used across the runtime:
 *   L layers, C channels (hidden size), H query heads, Hkv key/value heads, D head size,
 *   F feed-forward width, V vocabulary, S context length, T tokens in one forward call.
 */
export interface ModelConfig {
  /** The `model_type` of config.json (gpt2, llama, qwen2, mistral). */
  readonly modelType: string;
  readonly L: number;
  readonly C: number;
  readonly H: number;
  readonly Hkv: number;
  readonly D: number;
  readonly F: number;
  readonly V: number;
  /** Longest sequence the checkpoint was trained for (max_position_embeddings / n_positions). */
  readonly maxPositions: number;

  /** LayerNorm with bias (GPT-2) or RMSNorm without (Llama). */
  readonly norm: 'layernorm' | 'rmsnorm';
  readonly normEps: number;
  /** Learned absolute positions added to the embedding (GPT-2) or rotary on q and k (Llama). */
  readonly position: 'learned' | 'rope';
  /** Rotary inverse frequencies, one per pair (D/2), scaling already applied. Empty when learned. */
  readonly ropeInvFreq: Float32Array;
  /** GELU (tanh approximation) MLP with one up projection, or SiLU-gated MLP (gate and up). */
  readonly mlp: 'gelu' | 'swiglu';
  /** Biases on the q, k, v projections (GPT-2, Qwen2). */
  readonly qkvBias: boolean;
  /** Biases on the attention output, MLP projections (GPT-2). */
  readonly projBias: boolean;
  /** The output head shares the token embedding matrix. */
  readonly tiedHead: boolean;

  /** Token ids from config.json (may be refined by generation_config.json / tokenizer_config.json). */
  readonly bosTokenId: number | null;
  readonly eosTokenIds: readonly number[];
}
