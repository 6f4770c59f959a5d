/**
 * Fitting the task head: standardise, minimise the regularised softmax loss with L-BFGS, fold the
 * standardisation back into the weights; pick the L2 strength by seeded, stratified k-fold
 * cross-validation (lowest out-of-fold log-loss over a grid), then refit on every row.
 * Pure numbers in, numbers out: the same code runs in the worker, on the page and in Node.
 */
import { GptError } from '../../errors.ts';
import { argmax } from '../normalise.ts';
import { assignFolds } from './folds.ts';
import { minimise } from './lbfgs.ts';
import { parameterCount, softmaxInPlace, softmaxObjective, type SoftmaxData } from './softmax-loss.ts';
import { featureStats, standardise, type FeatureStats } from './standardise.ts';

/** A fitted linear layer on raw (unstandardised) features. */
export interface LinearWeights {
  /** `classes`: (K, C), one row per class; `options`: (1, C), shared by every option. */
  readonly weights: Float64Array;
  /** (K) for `classes`; (1), always 0, for `options` (a shared bias cancels in the softmax). */
  readonly bias: Float64Array;
}

/** Options of {@link fitLinear}, {@link crossValidate} and {@link trainLinear}. */
export interface FitOptions {
  /** L-BFGS stops when every gradient component is at most this (default 1e-5). */
  readonly gradientTolerance?: number;
  readonly maxIterations?: number;
  readonly signal?: AbortSignal;
  /** Awaited between iterations (default: a macrotask every ~20 ms, so aborts get through). */
  readonly pause?: () => Promise<void> | void;
}

/** Options of {@link crossValidate} and {@link trainLinear}. */
export interface CrossValidateOptions extends FitOptions {
  /** k of k-fold (default 5, at most the number of rows). */
  readonly folds?: number;
  /** Seed of the fold assignment (default 1). */
  readonly seed?: number;
  /** L2 strengths to try (default 1e-3 .. 10, 9 values, a factor sqrt(10) apart). */
  readonly lambdas?: readonly number[];
  /** Called after each fit: `done` of `total` fits. */
  readonly onProgress?: (p: { readonly done: number; readonly total: number }) => void;
}

/** The cross-validation of one L2 strength. */
export interface LambdaScore {
  readonly lambda: number;
  /** Fraction of rows whose out-of-fold prediction is right. */
  readonly accuracy: number;
  /** Mean out-of-fold -log p(right answer). */
  readonly logLoss: number;
}

/** What {@link crossValidate} found. */
export interface CrossValidation {
  readonly folds: number;
  /** The chosen L2 strength (lowest log-loss; the larger on a tie). */
  readonly lambda: number;
  readonly accuracy: number;
  readonly logLoss: number;
  readonly perLambda: readonly LambdaScore[];
  /** (N) each row's out-of-fold prediction at the chosen lambda: for a confusion matrix. */
  readonly predicted: Int32Array;
}

/**
 * The default grid. Below 1e-3 the fits of near-separable rows take hundreds of iterations (the
 * weights grow without a penalty to stop them) and were never chosen on the demo model's tasks.
 */
export const DEFAULT_LAMBDAS: readonly number[] = Array.from({ length: 9 }, (_, i) => 10 ** (-3 + i / 2));

/**
 * Fits at one L2 strength. `init` (standardised-space parameters, e.g. a neighbouring lambda's)
 * warm-starts L-BFGS. Returns the weights for raw features and the standardised parameters.
 */
export async function fitLinear(d: SoftmaxData, lambda: number, options: FitOptions & { readonly init?: Float64Array } = {}): Promise<{ weights: LinearWeights; theta: Float64Array; iterations: number }> {
  const stats = featureStats(d.x, d.C);
  const z: SoftmaxData = { ...d, x: standardise(d.x, stats) };
  const pause = options.pause ?? eventLoopTurns();
  const m = await minimise(softmaxObjective(z, lambda), options.init ?? new Float64Array(parameterCount(d)), { gradientTolerance: 1e-5, maxIterations: 300, ...options, pause });
  return { weights: toRawFeatures(m.x, d, stats), theta: m.x, iterations: m.iterations };
}

/** Scores (K) of row `i` of `d` under weights for raw features. */
export function linearScores(w: LinearWeights, d: SoftmaxData, i: number, out: Float64Array): void {
  const { K, C, x } = d;
  for (let k = 0; k < K; k++) {
    const xi = d.kind === 'classes' ? i * C : (i * K + k) * C;
    const wk = d.kind === 'classes' ? k * C : 0;
    let s = w.bias[d.kind === 'classes' ? k : 0];
    for (let c = 0; c < C; c++) s += w.weights[wk + c] * x[xi + c];
    out[k] = s;
  }
}

/**
 * k-fold cross-validation over `lambdas`. Per fold, lambdas run from the largest down, each
 * warm-started from the last: the path of solutions changes slowly, so most fits take a few
 * iterations.
 */
export async function crossValidate(d: SoftmaxData, options: CrossValidateOptions = {}): Promise<CrossValidation> {
  checkData(d);
  const folds = Math.min(options.folds ?? 5, d.N);
  if (!Number.isInteger(folds) || folds < 2) throw new GptError('bad-argument', `Cross-validation needs at least 2 folds and 2 rows; got ${folds} fold(s) for ${d.N} row(s). HINT: give more labelled rows.`);
  const lambdas = [...(options.lambdas ?? DEFAULT_LAMBDAS)].sort((a, b) => b - a);
  if (lambdas.length === 0 || lambdas.some((l) => !(l > 0) || !Number.isFinite(l))) throw new GptError('bad-argument', `lambdas must be positive numbers, got [${lambdas.join(', ')}].`);
  const total = folds * lambdas.length + 1; // +1: the final fit of trainLinear
  const fold = assignFolds(d.y, folds, options.seed ?? 1);
  const oofScores = lambdas.map(() => new Float64Array(d.N * d.K)); // (lambdas, N, K)
  const p = new Float64Array(d.K);
  let done = 0;
  for (let f = 0; f < folds; f++) {
    const train = subset(d, (i) => fold[i] !== f);
    const test = subset(d, (i) => fold[i] === f);
    let init: Float64Array | undefined;
    for (let l = 0; l < lambdas.length; l++) {
      const fit = await fitLinear(train.data, lambdas[l]!, { ...options, init });
      init = fit.theta;
      for (let j = 0; j < test.rows.length; j++) {
        linearScores(fit.weights, test.data, j, p);
        oofScores[l]!.set(p, test.rows[j]! * d.K);
      }
      options.onProgress?.({ done: ++done, total });
    }
  }
  const perLambda = lambdas.map((lambda, l) => {
    let loss = 0;
    let correct = 0;
    for (let i = 0; i < d.N; i++) {
      p.set(oofScores[l]!.subarray(i * d.K, (i + 1) * d.K));
      correct += Number(argmax(p) === d.y[i]);
      softmaxInPlace(p);
      loss -= Math.log(Math.max(p[d.y[i]!]!, 1e-300));
    }
    return { lambda, accuracy: correct / d.N, logLoss: loss / d.N };
  });
  let best = 0;
  for (let l = 1; l < lambdas.length; l++) if (perLambda[l]!.logLoss < perLambda[best]!.logLoss - 1e-12) best = l;
  const predicted = new Int32Array(d.N);
  for (let i = 0; i < d.N; i++) predicted[i] = argmax(oofScores[best]!.subarray(i * d.K, (i + 1) * d.K));
  return { folds, ...perLambda[best]!, perLambda: [...perLambda].reverse(), predicted };
}

/** Cross-validates, then fits on every row at the chosen L2 strength. */
export async function trainLinear(d: SoftmaxData, options: CrossValidateOptions = {}): Promise<{ weights: LinearWeights; cv: CrossValidation }> {
  const cv = await crossValidate(d, options);
  const fit = await fitLinear(d, cv.lambda, options);
  const total = cv.folds * cv.perLambda.length + 1;
  options.onProgress?.({ done: total, total });
  return { weights: fit.weights, cv };
}

/**
 * Checks the shapes and values of `d`: labels in range, finite features and, for `classes`, at
 * least two different labels (one class leaves nothing to learn).
 */
export function checkData(d: SoftmaxData): void {
  const vectors = d.kind === 'classes' ? d.N : d.N * d.K;
  if (!(d.N >= 1 && d.K >= 2 && d.C >= 1)) throw new GptError('bad-argument', `A head needs rows (N ${d.N}), at least 2 classes or options (K ${d.K}) and features (C ${d.C}).`);
  if (d.x.length !== vectors * d.C || d.y.length !== d.N) throw new GptError('bad-argument', `features hold ${d.x.length} numbers and labels ${d.y.length}; expected ${vectors * d.C} and ${d.N}.`);
  for (let i = 0; i < d.N; i++) {
    if (!(Number.isInteger(d.y[i]) && d.y[i]! >= 0 && d.y[i]! < d.K)) throw new GptError('bad-argument', `row ${i}: label ${d.y[i]} is outside 0 .. ${d.K - 1}.`);
  }
  for (let j = 0; j < d.x.length; j++) {
    if (!Number.isFinite(d.x[j])) throw new GptError('bad-argument', `feature ${j % d.C} of row ${Math.floor(j / d.C / (d.kind === 'classes' ? 1 : d.K))} is ${d.x[j]}. HINT: the model produced a non-finite hidden state; check the model on the CPU backend.`);
  }
  if (d.kind === 'classes' && new Set(d.y).size < 2) {
    throw new GptError('bad-argument', `every row has the same label, so there is nothing to tell apart. HINT: give rows of at least two classes.`);
  }
}


/**
 * A pause that yields a macrotask at most every `everyMs`: microtasks never let a worker's
 * message (an abort) in, a setTimeout(0) per iteration would cost ~1-4 ms each.
 */
export function eventLoopTurns(everyMs = 20, now: () => number = () => performance.now()): () => Promise<void> | void {
  let last = now();
  return () => {
    if (now() - last < everyMs) return;
    return new Promise<void>((resolve) =>
      setTimeout(() => {
        last = now();
        resolve();
      }, 0),
    );
  };
}

function toRawFeatures(theta: Float64Array, d: SoftmaxData, s: FeatureStats): LinearWeights {
  const { K, C } = d;
  const R = d.kind === 'classes' ? K : 1;
  const weights = new Float64Array(R * C);
  const bias = new Float64Array(R);
  for (let r = 0; r < R; r++) {
    let shift = 0;
    for (let c = 0; c < C; c++) {
      weights[r * C + c] = theta[r * C + c]! / s.scale[c]!;
      shift += weights[r * C + c]! * s.mean[c]!;
    }
    // w . (x - mean) / scale + b = (w / scale) . x + (b - (w / scale) . mean); for options the
    // shift is the same for every option and cancels in the softmax.
    bias[r] = d.kind === 'classes' ? theta[K * C + r]! - shift : 0;
  }
  return { weights, bias };
}

function subset(d: SoftmaxData, keep: (i: number) => boolean): { data: SoftmaxData; rows: number[] } {
  const rows: number[] = [];
  for (let i = 0; i < d.N; i++) if (keep(i)) rows.push(i);
  const width = d.kind === 'classes' ? d.C : d.K * d.C;
  const x = new Float64Array(rows.length * width);
  rows.forEach((r, j) => x.set(d.x.subarray(r * width, (r + 1) * width), j * width));
  return { data: { ...d, N: rows.length, x, y: Int32Array.from(rows, (r) => d.y[r]!) }, rows };
}
