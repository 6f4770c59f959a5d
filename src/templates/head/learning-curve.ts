/**
 * A learning curve: held-out accuracy against the number of labelled rows, few-shot (the rows as
 * the prompt's examples) beside a trained head (the rows as training data). The rows are shuffled
 * (seeded), a quarter held out for testing, and growing prefixes of the rest (8, 16, 32, ... and
 * all of it) used both ways. Few-shot uses at most what fits the context window: its curve
 * flattens where the prompt is full, which is the point of the comparison.
 *
 * The runner is a seam: the template editor passes <gpt-chat>'s methods (the worker), tests the
 * runtime directly.
 */
import { GptError } from '../../errors.ts';
import type { FewShotTemplate, TemplateExample } from '../schema.ts';
import { shuffledIndices } from './folds.ts';
import type { TaskHead } from './head-schema.ts';

/** What the curve needs: train a head on rows, and answer one query with or without one. */
export interface CurveRunner {
  train(template: FewShotTemplate, rows: readonly TemplateExample[], signal?: AbortSignal): Promise<TaskHead>;
  /** The predicted answer (a label name, or the chosen option's text). */
  answer(template: FewShotTemplate, fields: Readonly<Record<string, string>>, head: TaskHead | undefined, signal?: AbortSignal): Promise<string>;
}

/** One point: accuracy on the held-out rows after learning from `rows` rows. */
export interface CurvePoint {
  readonly rows: number;
  readonly fewShot: number;
  /** Undefined when no head could be trained on so few rows (e.g. one class only). */
  readonly head: number | undefined;
}

export interface LearningCurve {
  /** How many rows were held out to measure accuracy. */
  readonly heldOut: number;
  readonly points: readonly CurvePoint[];
}

/** Fewest rows for a curve: 8 to learn from and 4 to test on. */
export const MIN_CURVE_ROWS = 12;

/** The training sizes for a pool of `n` rows: 8, 16, 32, ... below n, then n. */
export function curveSizes(n: number): number[] {
  const sizes: number[] = [];
  for (let s = 8; s < n; s *= 2) sizes.push(s);
  sizes.push(n);
  return sizes;
}

/**
 * Measures the curve of `template` on `rows` (already checked: every answer valid). Progress is
 * reported after each point; `signal` stops between queries.
 */
export async function learningCurve(
  runner: CurveRunner,
  template: FewShotTemplate,
  rows: readonly TemplateExample[],
  options: { readonly seed?: number; readonly signal?: AbortSignal; readonly onProgress?: (done: number, total: number) => void } = {},
): Promise<LearningCurve> {
  if (rows.length < MIN_CURVE_ROWS) throw new GptError('bad-argument', `A learning curve needs at least ${MIN_CURVE_ROWS} labelled rows (8 to learn from, 4 to test on); there are ${rows.length}. HINT: add rows.`);
  const order = shuffledIndices(rows.length, options.seed ?? 1).map((i) => rows[i]!);
  const heldOut = Math.max(4, Math.round(rows.length / 4));
  const test = order.slice(0, heldOut);
  const pool = order.slice(heldOut);
  const sizes = curveSizes(pool.length);
  const accuracy = async (t: FewShotTemplate, head: TaskHead | undefined) => {
    let right = 0;
    for (const row of test) {
      if (options.signal?.aborted) throw new GptError('aborted', 'The learning curve was cancelled.');
      right += Number((await runner.answer(t, row.fields, head, options.signal)) === row.answer);
    }
    return right / test.length;
  };
  const points: CurvePoint[] = [];
  for (const n of sizes) {
    const learn = pool.slice(0, n);
    const fewShot = await accuracy({ ...template, examples: learn, head: undefined }, undefined);
    let head: number | undefined;
    try {
      head = await accuracy(template, await runner.train(template, learn, options.signal));
    } catch (e) {
      const error = GptError.from(e);
      if (error.code === 'aborted' || options.signal?.aborted) throw error;
      head = undefined; // too few rows or one class in this prefix: no point
    }
    points.push({ rows: n, fewShot, head });
    options.onProgress?.(points.length, sizes.length);
  }
  return { heldOut, points };
}
