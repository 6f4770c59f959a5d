/**
 * Applying a trained head: refused, with the reason, when it was trained on another model (the
 * weights fingerprint differs), for another task or labels, or with another hidden size; else the
 * row's features (the same recipe as in training) through the linear layer, one score per label
 * or option.
 */
import { GptError } from '../../errors.ts';
import type { FewShotTemplate } from '../schema.ts';
import { rowFeatures, type FeatureModel, type RowFeatures } from './features.ts';
import { featureWidth, type TaskHead } from './head-schema.ts';
import { validateHead } from './validate-head.ts';

/** Scores (one per template label, in template order, or per option) and the features' prompt. */
export interface HeadScores {
  readonly scores: number[];
  readonly prompt: RowFeatures['prompt'];
}

/** Throws GptError('bad-head') unless `head` can be applied to `t` on `lm`. Returns it validated. */
export function checkHeadFits(head: unknown, t: FewShotTemplate, lm: FeatureModel): TaskHead {
  const h = validateHead(head, `template "${t.id}": head`);
  if (h.model.weightsHash !== lm.weightsHash || h.model.C !== lm.config.C) {
    throw new GptError(
      'bad-head',
      `template "${t.id}": its head was trained on ${h.model.url} (weights ${h.model.weightsHash}, hidden size ${h.model.C}), but the loaded model is ${lm.location} (weights ${lm.weightsHash || 'unknown'}, hidden size ${lm.config.C}). A head reads one model's hidden states and means nothing on another. HINT: train the head again on this model, or load the model it was trained on.`,
    );
  }
  if (h.task !== t.task) throw new GptError('bad-head', `template "${t.id}" is ${t.task}, but its head was trained for ${h.task}. HINT: train the head again.`);
  if (t.task === 'classification') {
    const names = t.labels.map((l) => l.name);
    if (names.length !== h.labels.length || !names.every((n) => h.labels.includes(n))) {
      throw new GptError('bad-head', `template "${t.id}" has the labels ${names.join(', ')}, but its head was trained for ${h.labels.join(', ')}. HINT: train the head again after changing labels.`);
    }
  }
  if (h.recipe.symmetric && !h.recipe.symmetric.every((f) => t.fields.includes(f))) {
    throw new GptError('bad-head', `template "${t.id}": its head swaps the fields ${h.recipe.symmetric.join(' and ')}, which the template no longer has. HINT: train the head again.`);
  }
  return h;
}

/** The head's scores for `fields` (already checked against `t`). */
export async function headScores(lm: FeatureModel, t: FewShotTemplate, head: TaskHead, fields: Readonly<Record<string, string>>, signal?: AbortSignal): Promise<HeadScores> {
  const { x, prompt } = await rowFeatures(lm, t, head.recipe, fields, signal);
  const W = featureWidth(head.model.C, head.recipe);
  const dot = (w: readonly number[], offset: number) => {
    let s = 0;
    for (let c = 0; c < W; c++) s += w[c]! * x[offset + c]!;
    return s;
  };
  if (t.task === 'multiple-choice') return { scores: t.options.map((_, k) => dot(head.weights[0]!, k * W) + head.bias[0]!), prompt };
  // the head's rows follow its own label order; answer in the template's
  const scores = t.labels.map((l) => {
    const r = head.labels.indexOf(l.name);
    return dot(head.weights[r]!, 0) + head.bias[r]!;
  });
  return { scores, prompt };
}
