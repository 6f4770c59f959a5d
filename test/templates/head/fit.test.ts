// The task head's maths on hand-checkable problems: L-BFGS on the softmax loss against an
// independent Newton solve of 2-class logistic regression, separable and shuffled-label sets,
// seeded folds, the standardisation folded back into raw-feature weights, cancel and progress.
import { describe, expect, it } from 'vitest';
import { GptError } from '../../../src/errors.ts';
import { assignFolds, seededRandom } from '../../../src/templates/head/folds.ts';
import { checkData, crossValidate, fitLinear, linearScores, trainLinear } from '../../../src/templates/head/fit.ts';
import { minimise } from '../../../src/templates/head/lbfgs.ts';
import { softmaxObjective, type SoftmaxData } from '../../../src/templates/head/softmax-loss.ts';

/** Independent reference: Newton's method for min mean log(1 + exp(-s_i (w.x_i + b))) + (mu/2)||w||^2. */
function newtonLogistic(X: number[][], y: number[], mu: number, intercept: boolean): { w: number[]; b: number } {
  const C = X[0]!.length;
  const P = C + (intercept ? 1 : 0);
  let th = new Array<number>(P).fill(0);
  const row = (i: number) => (intercept ? [...X[i]!, 1] : X[i]!);
  for (let it = 0; it < 50; it++) {
    const g = new Array<number>(P).fill(0);
    const H = Array.from({ length: P }, () => new Array<number>(P).fill(0));
    for (let i = 0; i < X.length; i++) {
      const r = row(i);
      const z = r.reduce((s, v, j) => s + v * th[j]!, 0);
      const p = 1 / (1 + Math.exp(-z)); // p(y = 1)
      for (let a = 0; a < P; a++) {
        g[a] += ((p - y[i]!) * r[a]!) / X.length;
        for (let b = 0; b < P; b++) H[a]![b] += (p * (1 - p) * r[a]! * r[b]!) / X.length;
      }
    }
    for (let a = 0; a < C; a++) {
      g[a] += mu * th[a]!;
      H[a]![a] += mu;
    }
    th = th.map((v, j) => v - solve(H, g)[j]!);
  }
  return { w: th.slice(0, C), b: intercept ? th[C]! : 0 };
}

/** Gaussian elimination with partial pivoting: H x = g. */
function solve(H: number[][], g: number[]): number[] {
  const n = g.length;
  const A = H.map((r, i) => [...r, g[i]!]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(A[r]![c]!) > Math.abs(A[p]![c]!)) p = r;
    [A[c], A[p]] = [A[p]!, A[c]!];
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = A[r]![c]! / A[c]![c]!;
      for (let k = c; k <= n; k++) A[r]![k] -= f * A[c]![k]!;
    }
  }
  return A.map((r, i) => r[n]! / r[i]!);
}

const TINY_X = [[1, 2], [2, 1], [0.5, -1], [-1, 0.3], [-2, -1], [0.2, 0.4], [1.5, -0.5], [-0.7, 1.2]];
const TINY_Y = [1, 1, 0, 0, 0, 1, 0, 1];

function gaussianBlobs(n: number, C: number, K: number, seed: number, separation: number): SoftmaxData {
  const random = seededRandom(seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const x = new Float64Array(n * C);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = i % K;
    for (let c = 0; c < C; c++) x[i * C + c] = normal() + (c === y[i] ? separation : 0) + 3 * (c === C - 1 ? 10 : 0);
  }
  return { kind: 'classes', N: n, K, C, x, y };
}

describe('the softmax head, by hand-checkable cases', () => {
  it('matches a Newton solve of 2-class logistic regression to 1e-4 (classes: W1 - W0, b1 - b0)', async () => {
    const lambda = 0.1;
    const d: SoftmaxData = { kind: 'classes', N: 8, K: 2, C: 2, x: Float64Array.from(TINY_X.flat()), y: Int32Array.from(TINY_Y) };
    const m = await minimise(softmaxObjective(d, lambda), new Float64Array(6), { gradientTolerance: 1e-12 });
    expect(m.converged).toBe(true);
    // With W0 = -W1 at the optimum, (lambda/2)(|W0|^2 + |W1|^2) = (lambda/4)|W1 - W0|^2.
    const ref = newtonLogistic(TINY_X, TINY_Y, lambda / 2, true);
    const [w00, w01, w10, w11, b0, b1] = m.x;
    expect(w10! - w00!).toBeCloseTo(ref.w[0]!, 4);
    expect(w11! - w01!).toBeCloseTo(ref.w[1]!, 4);
    expect(b1! - b0!).toBeCloseTo(ref.b, 4);
    expect(Math.abs(ref.w[0]!)).toBeGreaterThan(0.1); // a solution worth matching
  });

  it('matches Newton for the options shape (score w.x per option, no bias)', async () => {
    const lambda = 0.05;
    // option 0 has features 0, option 1 has x_i: p(option 1) = sigmoid(w . x_i)
    const x = new Float64Array(TINY_X.length * 2 * 2);
    TINY_X.forEach((r, i) => x.set(r, (i * 2 + 1) * 2));
    const d: SoftmaxData = { kind: 'options', N: 8, K: 2, C: 2, x, y: Int32Array.from(TINY_Y) };
    const m = await minimise(softmaxObjective(d, lambda), new Float64Array(2), { gradientTolerance: 1e-12 });
    const ref = newtonLogistic(TINY_X, TINY_Y, lambda, false);
    expect(m.x[0]).toBeCloseTo(ref.w[0]!, 4);
    expect(m.x[1]).toBeCloseTo(ref.w[1]!, 4);
  });

  it('folds the standardisation into raw-feature weights (same scores as the standardised fit)', async () => {
    const d = gaussianBlobs(60, 5, 3, 7, 1);
    const { weights, theta } = await fitLinear(d, 0.01, { gradientTolerance: 1e-10 });
    // standardise by hand and score with theta
    const C = 5;
    const mean = new Array(C).fill(0);
    const sd = new Array(C).fill(0);
    for (let i = 0; i < 60; i++) for (let c = 0; c < C; c++) mean[c] += d.x[i * C + c]! / 60;
    for (let i = 0; i < 60; i++) for (let c = 0; c < C; c++) sd[c] += (d.x[i * C + c]! - mean[c]) ** 2 / 60;
    const out = new Float64Array(3);
    for (let i = 0; i < 60; i += 7) {
      linearScores(weights, d, i, out);
      for (let k = 0; k < 3; k++) {
        let s = theta[3 * C + k]!;
        for (let c = 0; c < C; c++) s += theta[k * C + c]! * ((d.x[i * C + c]! - mean[c]) / Math.sqrt(sd[c]));
        expect(out[k]).toBeCloseTo(s, 8);
      }
    }
  });

  it('reaches 100% on a separable set, in training and in cross-validation', async () => {
    const d = gaussianBlobs(80, 6, 4, 3, 8);
    const { weights, cv } = await trainLinear(d);
    const out = new Float64Array(4);
    let correct = 0;
    for (let i = 0; i < d.N; i++) {
      linearScores(weights, d, i, out);
      correct += Number(out.indexOf(Math.max(...out)) === d.y[i]);
    }
    expect(correct).toBe(80);
    expect(cv.accuracy).toBe(1);
  });

  it('stays near chance with shuffled labels (the control)', async () => {
    const d = gaussianBlobs(300, 16, 2, 11, 1.5);
    const labelled = await crossValidate(d);
    expect(labelled.accuracy).toBeGreaterThan(0.7); // the features do carry the labels ...
    const random = seededRandom(99);
    const y = Int32Array.from(d.y);
    for (let i = y.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [y[i], y[j]] = [y[j]!, y[i]!];
    }
    const shuffled = await crossValidate({ ...d, y });
    expect(shuffled.accuracy).toBeGreaterThan(0.38); // ... and shuffled labels do not
    expect(shuffled.accuracy).toBeLessThan(0.62);
    expect(shuffled.lambda).toBeGreaterThanOrEqual(1); // CV picks strong regularisation: nothing to fit
  });

  it('is deterministic for a seed: the same folds and result, other folds for another seed', async () => {
    const d = gaussianBlobs(40, 4, 2, 5, 1);
    expect(Array.from(assignFolds(d.y, 5, 3))).toEqual(Array.from(assignFolds(d.y, 5, 3)));
    expect(Array.from(assignFolds(d.y, 5, 3))).not.toEqual(Array.from(assignFolds(d.y, 5, 4)));
    const a = await crossValidate(d, { seed: 3 });
    const b = await crossValidate(d, { seed: 3 });
    expect(b.perLambda).toEqual(a.perLambda);
    expect(Array.from(b.predicted)).toEqual(Array.from(a.predicted));
  });

  it('stratifies: each fold gets its share of every label', () => {
    const y = Int32Array.from([0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1]);
    const fold = assignFolds(y, 4, 1);
    for (let f = 0; f < 4; f++) {
      const labels = [...y].filter((_, i) => fold[i] === f);
      expect(labels.filter((l) => l === 0).length).toBeGreaterThanOrEqual(2);
      expect(labels.filter((l) => l === 1).length).toBeGreaterThanOrEqual(1);
    }
  });

  it('reports progress up to its total, and stops with GptError("aborted") when cancelled', async () => {
    const d = gaussianBlobs(40, 4, 2, 5, 1);
    const seen: { done: number; total: number }[] = [];
    await trainLinear(d, { folds: 4, lambdas: [0.1, 1], onProgress: (p) => seen.push(p) });
    expect(seen.at(-1)).toEqual({ done: 9, total: 9 });
    expect(seen.map((p) => p.done)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const controller = new AbortController();
    const run = trainLinear(d, { onProgress: (p) => p.done === 3 && controller.abort(), signal: controller.signal });
    await expect(run).rejects.toMatchObject({ code: 'aborted' });
  });

  it('refuses one class, labels out of range, non-finite features and too few rows', () => {
    const d = gaussianBlobs(10, 3, 2, 1, 1);
    const err = (f: () => void) => {
      try {
        f();
      } catch (e) {
        return e as GptError;
      }
      throw new Error('no error');
    };
    expect(err(() => checkData({ ...d, y: new Int32Array(10) })).message).toMatch(/same label/);
    expect(err(() => checkData({ ...d, y: Int32Array.from({ length: 10 }, (_, i) => (i === 4 ? 2 : i % 2)) })).message).toMatch(/row 4: label 2 is outside 0 \.\. 1/);
    const x = Float64Array.from(d.x);
    x[7] = NaN;
    expect(err(() => checkData({ ...d, x })).message).toMatch(/feature 1 of row 2 is NaN/);
    expect(err(() => checkData({ ...d, x: new Float64Array(5) })).code).toBe('bad-argument');
    return expect(crossValidate({ kind: 'options', N: 1, K: 2, C: 3, x: d.x.slice(0, 6), y: Int32Array.from([0]) })).rejects.toThrow(/2 folds and 2 rows/);
  });
});
