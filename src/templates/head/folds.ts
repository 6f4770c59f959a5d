/**
 * Seeded, stratified k-fold assignment: the same rows, labels and seed give the same folds in
 * every JavaScript engine, and each fold gets its share of every class, so a fold of a small,
 * unbalanced set still has both positives and negatives to test on.
 */

/** mulberry32: a tiny seeded generator of floats in [0, 1) (32-bit integer arithmetic only). */
export function seededRandom(seed: number): () => number {
  let a = Math.trunc(seed) >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A seeded Fisher-Yates shuffle of 0 .. n-1. */
export function shuffledIndices(n: number, seed: number): number[] {
  const random = seededRandom(seed);
  const out = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/**
 * The fold (0 .. folds-1) of each row: rows shuffled by `seed`, grouped by label, then dealt round
 * robin, so fold sizes differ by at most one and every label is spread over the folds.
 */
export function assignFolds(labels: ArrayLike<number>, folds: number, seed: number): Int32Array {
  const order = shuffledIndices(labels.length, seed);
  order.sort((a, b) => labels[a]! - labels[b]!); // stable: the shuffle survives within a label
  const fold = new Int32Array(labels.length);
  order.forEach((row, i) => (fold[row] = i % folds));
  return fold;
}
