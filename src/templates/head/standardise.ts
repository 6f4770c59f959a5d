/**
 * Feature standardisation: each feature shifted to mean 0 and scaled to standard deviation 1 over
 * the training vectors, so one L2 penalty treats every feature alike (hidden states have a few
 * channels hundreds of times larger than the rest) and L-BFGS sees a well-conditioned problem.
 * The fitted weights are folded back into raw-feature space (see fit.ts), so a saved head is
 * applied to the model's hidden state as it is.
 */

/** Per-feature mean and scale (C each). */
export interface FeatureStats {
  readonly mean: Float64Array;
  readonly scale: Float64Array;
}

/** Mean and standard deviation of each of the C columns of `x` (rows of C). Constant columns get scale 1. */
export function featureStats(x: Float64Array, C: number): FeatureStats {
  const n = x.length / C;
  const mean = new Float64Array(C);
  const scale = new Float64Array(C);
  for (let r = 0; r < n; r++) for (let c = 0; c < C; c++) mean[c] += x[r * C + c];
  for (let c = 0; c < C; c++) mean[c] /= n;
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < C; c++) {
      const v = x[r * C + c] - mean[c];
      scale[c] += v * v;
    }
  }
  for (let c = 0; c < C; c++) {
    const sd = Math.sqrt(scale[c] / n);
    // A constant feature carries nothing; scale 1 leaves it at 0 instead of dividing by 0.
    scale[c] = sd > 1e-12 * (1 + Math.abs(mean[c])) ? sd : 1;
  }
  return { mean, scale };
}

/** (x - mean) / scale, row by row, as a new array. */
export function standardise(x: Float64Array, stats: FeatureStats): Float64Array {
  const C = stats.mean.length;
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const c = i % C;
    out[i] = (x[i] - stats.mean[c]) / stats.scale[c];
  }
  return out;
}
