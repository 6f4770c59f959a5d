/**
 * The task head's model and loss: a linear layer on features, a softmax over candidates, mean
 * cross-entropy plus an L2 penalty (bias not penalised). Two shapes, as in GPT-1 (Radford et al.
 * 2018, section 3.3):
 *
 * - `classes`: one feature vector x_i (C) per row; score_k = W_k . x_i + b_k, one weight row per
 *   class (classification, entailment, similarity).
 * - `options`: one feature vector x_ik (C) per (row, option) pair; score_k = w . x_ik, one weight
 *   vector shared by every option (multiple choice: "each (context, option) pair a scalar score,
 *   a softmax over the options"). A bias would add the same constant to every option: none.
 *
 * Dimensions: N rows, K classes or options, C features. Parameters are one flat vector: W (K, C)
 * then b (K) for `classes`, w (C) for `options`.
 */

/** Labelled features in one of the two shapes. */
export interface SoftmaxData {
  readonly kind: 'classes' | 'options';
  readonly N: number;
  readonly K: number;
  readonly C: number;
  /** `classes`: (N, C); `options`: (N, K, C). */
  readonly x: Float64Array;
  /** (N) the right class or option of each row. */
  readonly y: Int32Array;
  /** (C) how strongly each feature's weights are penalised, as a multiple of lambda (default 1 for all). */
  readonly penalty?: Float64Array;
}

/** Length of the parameter vector of `data`'s shape. */
export function parameterCount(d: Pick<SoftmaxData, 'kind' | 'K' | 'C'>): number {
  return d.kind === 'classes' ? d.K * d.C + d.K : d.C;
}

/** Writes the K scores of row `i` under `theta` into `out`. */
export function rowScores(theta: Float64Array, d: SoftmaxData, i: number, out: Float64Array): void {
  const { K, C, x } = d;
  if (d.kind === 'classes') {
    const xi = i * C;
    for (let k = 0; k < K; k++) {
      let s = theta[K * C + k];
      const wk = k * C;
      for (let c = 0; c < C; c++) s += theta[wk + c] * x[xi + c];
      out[k] = s;
    }
  } else {
    for (let k = 0; k < K; k++) {
      const xik = (i * K + k) * C;
      let s = 0;
      for (let c = 0; c < C; c++) s += theta[c] * x[xik + c];
      out[k] = s;
    }
  }
}

/** In place: scores -> softmax probabilities; returns log-sum-exp of the scores. */
export function softmaxInPlace(p: Float64Array): number {
  let max = -Infinity;
  for (let k = 0; k < p.length; k++) if (p[k] > max) max = p[k];
  let sum = 0;
  for (let k = 0; k < p.length; k++) sum += (p[k] = Math.exp(p[k] - max));
  for (let k = 0; k < p.length; k++) p[k] /= sum;
  return max + Math.log(sum);
}

/**
 * The objective for {@link minimise}: mean over rows of -log softmax(scores)[y] plus
 * (lambda / 2) ||W||^2, with its gradient written into `grad`.
 */
export function softmaxObjective(d: SoftmaxData, lambda: number): (theta: Float64Array, grad: Float64Array) => number {
  const { N, K, C, x, y } = d;
  const p = new Float64Array(K); // (K) scores, then probabilities, of one row
  return (theta, grad) => {
    grad.fill(0);
    let loss = 0;
    for (let i = 0; i < N; i++) {
      rowScores(theta, d, i, p);
      const target = p[y[i]];
      loss += softmaxInPlace(p) - target;
      p[y[i]] -= 1; // d loss_i / d score_k = p_k - [k = y_i]
      if (d.kind === 'classes') {
        const xi = i * C;
        for (let k = 0; k < K; k++) {
          const r = p[k] / N;
          const wk = k * C;
          for (let c = 0; c < C; c++) grad[wk + c] += r * x[xi + c];
          grad[K * C + k] += r;
        }
      } else {
        for (let k = 0; k < K; k++) {
          const r = p[k] / N;
          const xik = (i * K + k) * C;
          for (let c = 0; c < C; c++) grad[c] += r * x[xik + c];
        }
      }
    }
    loss /= N;
    const weights = d.kind === 'classes' ? K * C : C;
    let penalty = 0;
    for (let j = 0; j < weights; j++) {
      const l = lambda * (d.penalty ? d.penalty[j % C] : 1);
      penalty += l * theta[j] * theta[j];
      grad[j] += l * theta[j];
    }
    return loss + 0.5 * penalty;
  };
}
