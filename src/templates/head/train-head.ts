/**
 * trainHead: GPT-1's supervised fine-tuning with the transformer frozen. Every labelled row is
 * turned into the model's final hidden state(s) once (features.ts), then a softmax linear layer is
 * fitted on them with an L2 strength chosen by cross-validation (fit.ts). The transformer is never
 * updated, so GPT-1's auxiliary language-model loss, which regularises a body being trained, has
 * nothing to do here.
 */
import { GptError } from '../../errors.ts';
import type { FewShotTemplate, TemplateExample } from '../schema.ts';
import { checkExample, validateTemplate } from '../validate.ts';
import { eventLoopTurns, trainLinear, type CrossValidateOptions } from './fit.ts';
import { rowFeatures, type FeatureModel } from './features.ts';
import { featureWidth, HEAD_VERSION, type FeatureRecipe, type TaskHead } from './head-schema.ts';
import type { SoftmaxData } from './softmax-loss.ts';

/** Progress of {@link trainHead}: hidden states row by row, then the fits of cross-validation. */
export interface TrainHeadProgress {
  readonly phase: 'features' | 'fit';
  readonly done: number;
  readonly total: number;
}

/** Options of {@link trainHead}. */
export interface TrainHeadOptions extends Omit<CrossValidateOptions, 'onProgress'> {
  /** How rows become features (default: zero-shot context; multiple choice adds the likelihood features). */
  readonly recipe?: Partial<FeatureRecipe>;
  readonly onProgress?: (p: TrainHeadProgress) => void;
  /**
   * Refuse to start when the features would take more than this many bytes (default 256 MiB):
   * they are held as float64 while fitting, with a copy per cross-validation fold.
   */
  readonly maxFeatureBytes?: number;
  /** The clock for `trainedAt` (tests pass their own). */
  readonly now?: () => Date;
}

const DEFAULT_MAX_FEATURE_BYTES = 256 * 2 ** 20;

/**
 * Trains a head for `template` (classification or multiple choice) on labelled `rows`
 * (`{ fields, answer }`, as the template's examples). Every row is checked before any work: an
 * answer that is not a label (or not one of the row's options), a missing or empty field, a
 * single class, or more rows than `maxFeatureBytes` allow is a GptError naming the row.
 */
export async function trainHead(lm: FeatureModel, template: FewShotTemplate, rows: readonly unknown[], options: TrainHeadOptions = {}): Promise<TaskHead> {
  const t = validateTemplate(template);
  if (t.task === 'generation') throw new GptError('bad-argument', `template "${t.id}" is a generation template; a head is trained for classification or multiple choice.`);
  const recipe = recipeFor(t, options.recipe);
  if (!/^[0-9a-f]{16}$/.test(lm.weightsHash)) throw new GptError('bad-argument', `The model at ${lm.location} has no weights fingerprint, so a head trained on it could not be matched to it later. HINT: load it with loadLanguageModel.`);
  const checked = checkRows(t, rows);
  const C = lm.config.C;
  const K = t.task === 'classification' ? t.labels.length : t.options.length;
  const N = checked.length;
  const W = featureWidth(C, recipe);
  const width = t.task === 'classification' ? W : K * W;
  const bytes = N * width * 8 * 2; // the features and one fold's copy
  const limit = options.maxFeatureBytes ?? DEFAULT_MAX_FEATURE_BYTES;
  if (bytes > limit) {
    const mb = (b: number) => `${Math.ceil(b / 2 ** 20)} MB`;
    throw new GptError('bad-argument', `${N} rows of ${width} features need about ${mb(bytes)} to train on, more than the ${mb(limit)} allowed. HINT: train on fewer rows (a linear head seldom gains past a few thousand), or raise maxFeatureBytes.`);
  }
  const y = new Int32Array(N);
  checked.forEach((row, i) => (y[i] = t.task === 'classification' ? t.labels.findIndex((l) => l.name === row.answer) : t.options.findIndex((o) => row.fields[o] === row.answer)));
  if (t.task === 'classification' && new Set(y).size < 2) {
    throw new GptError('bad-template', `every row has the answer "${checked[0]!.answer}", so there is nothing to tell apart. HINT: give rows of at least two labels.`);
  }

  // hidden states, row by row (the shared prompt prefix stays in the KV cache); a CPU forward pass
  // never leaves the microtask queue, so yield now and then for a worker's abort message
  const x = new Float64Array(N * width);
  const pause = options.pause ?? eventLoopTurns();
  options.onProgress?.({ phase: 'features', done: 0, total: N });
  for (let i = 0; i < N; i++) {
    if (options.signal?.aborted) throw new GptError('aborted', 'Training the head was cancelled.');
    x.set((await rowFeatures(lm, t, recipe, checked[i]!.fields, options.signal)).x, i * width);
    options.onProgress?.({ phase: 'features', done: i + 1, total: N });
    await pause();
  }

  // The likelihood features are two summaries the model itself computed, not 2 of C noisy
  // directions: penalised 100x less, so the head can lean on them from a few rows.
  const penalty = recipe.likelihood ? Float64Array.from({ length: W }, (_, c) => (c < C ? 1 : 0.01)) : undefined;
  const data: SoftmaxData = { kind: t.task === 'classification' ? 'classes' : 'options', N, K, C: W, x, y, ...(penalty ? { penalty } : {}) };
  const { weights, cv } = await trainLinear(data, { ...options, onProgress: (p) => options.onProgress?.({ phase: 'fit', ...p }) });
  const confusion = Array.from({ length: K }, () => new Array<number>(K).fill(0));
  for (let i = 0; i < N; i++) confusion[y[i]!]![cv.predicted[i]!]!++;
  const R = data.kind === 'classes' ? K : 1;
  return {
    version: HEAD_VERSION,
    task: t.task,
    model: { url: lm.location, weightsHash: lm.weightsHash, C },
    recipe,
    labels: t.task === 'classification' ? t.labels.map((l) => l.name) : [],
    weights: Array.from({ length: R }, (_, r) => Array.from(weights.weights.subarray(r * W, (r + 1) * W), round)),
    bias: Array.from(weights.bias, round),
    validation: { accuracy: cv.accuracy, folds: cv.folds, rows: N, lambda: cv.lambda, confusion },
    trainedAt: (options.now?.() ?? new Date()).toISOString(),
  };
}

/** Float32 precision is all the hidden states have; 7 digits keep the JSON small. */
const round = (v: number) => Number(v.toPrecision(7));

function recipeFor(t: FewShotTemplate, r: Partial<FeatureRecipe> = {}): FeatureRecipe {
  const context = r.context ?? 'zero-shot';
  if (context !== 'zero-shot' && context !== 'few-shot') throw new GptError('bad-argument', `recipe.context is ${JSON.stringify(context)}; use "zero-shot" or "few-shot".`);
  const likelihood = r.likelihood ?? t.task === 'multiple-choice';
  if (likelihood && t.task !== 'multiple-choice') throw new GptError('bad-argument', 'recipe.likelihood is for multiple-choice templates (a classification head already reads the state the label scores come from).');
  if (!r.symmetric) return likelihood ? { context, likelihood } : { context };
  const [a, b] = r.symmetric;
  if (t.task !== 'classification' || !t.fields.includes(a) || !t.fields.includes(b) || a === b) {
    throw new GptError('bad-argument', `recipe.symmetric names ${JSON.stringify(r.symmetric)}; it takes two different fields of a classification template (${t.fields.join(', ')}).`);
  }
  return { context, symmetric: [a, b] };
}

function checkRows(t: FewShotTemplate, rows: readonly unknown[]): TemplateExample[] {
  if (!Array.isArray(rows) || rows.length === 0) throw new GptError('bad-argument', 'trainHead needs labelled rows ({ fields, answer }), found none. HINT: add examples or paste rows.');
  return rows.map((row, i) => {
    const where = `template "${t.id}": rows[${i}]`;
    const e = checkExample(t, row, where);
    for (const f of t.fields) {
      if (!e.fields[f]!.trim()) throw new GptError('bad-template', `${where}: the field "${f}" is empty. HINT: fill it or leave the row out.`);
    }
    return e;
  });
}
