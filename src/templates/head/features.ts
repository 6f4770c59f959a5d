/**
 * GPT-1's input transformations (Radford et al. 2018, section 3.3) on a template: a row becomes
 * the frozen model's final hidden state at the end of its rendered query. Classification,
 * entailment and similarity: one vector (similarity: the sum over both field orders). Multiple
 * choice: one vector per (context, option) pair. The prompt before the query (instruction, and
 * the examples for 'few-shot') is the same for every row, so GptModel's prefix reuse computes it
 * once; each row pays for its own tokens only.
 */
import { GptError } from '../../errors.ts';
import { answerParts, fitPrompt, type FittedPrompt } from '../render.ts';
import type { FewShotTemplate } from '../schema.ts';
import type { ScoringModel } from '../score.ts';
import { featureWidth, type FeatureRecipe } from './head-schema.ts';

/** What features need of a loaded model; the runtime's LanguageModel has this shape. */
export interface FeatureModel extends ScoringModel {
  /** Where the model was loaded from. */
  readonly location: string;
  /** A fingerprint of the weights (the runtime's weights-fingerprint.ts). */
  readonly weightsHash: string;
  readonly config: { readonly C: number };
  /** Final hidden states (P, C) after `positions` of `ids` (default the last). */
  hiddenStates(ids: ArrayLike<number>, positions?: readonly number[], signal?: AbortSignal): Promise<Float32Array>;
}

/** One row's features and the prompt they came from. */
export interface RowFeatures {
  /** (W) for classification, (K, W) for multiple choice (K options); W = featureWidth. */
  readonly x: Float64Array;
  /** The prompt up to the answer stem (the first order, for symmetric rows). */
  readonly prompt: FittedPrompt;
}

/** The features of one row (`fields` already checked against the template). */
export async function rowFeatures(lm: FeatureModel, t: FewShotTemplate, recipe: FeatureRecipe, fields: Readonly<Record<string, string>>, signal?: AbortSignal): Promise<RowFeatures> {
  const C = lm.config.C;
  if (t.task === 'multiple-choice') {
    const { lead } = answerParts(t);
    const options = t.options.map((o) => lm.tokenizer.encode(lead + fields[o]));
    const longest = Math.max(...options.map((ids) => ids.length));
    const prompt = fitted(lm, t, recipe, fields, longest);
    const ids = lm.tokenizer.encodePrompt(prompt.text);
    const W = featureWidth(C, recipe);
    const x = new Float64Array(options.length * W); // (K, W)
    for (let k = 0; k < options.length; k++) {
      const option = options[k]!;
      if (option.length === 0) throw new GptError('bad-template', `template "${t.id}": the option "${t.options[k]}" encodes to no tokens. HINT: give every option some text.`);
      if (recipe.likelihood) {
        await lm.model.sync(ids, signal); // the prompt alone in the cache (one token rerun)
        const { total } = await lm.model.scoreContinuation(option, signal);
        x[k * W + C] = total;
        x[k * W + C + 1] = total / option.length;
      }
      x.set(await lm.hiddenStates([...ids, ...option], undefined, signal), k * W);
    }
    return { x, prompt };
  }
  const orders = recipe.symmetric ? [fields, swap(fields, recipe.symmetric)] : [fields];
  const x = new Float64Array(C); // (C)
  let first: FittedPrompt | undefined;
  for (const f of orders) {
    const prompt = fitted(lm, t, recipe, f, 0);
    first ??= prompt;
    const h = await lm.hiddenStates(lm.tokenizer.encodePrompt(prompt.text), undefined, signal);
    for (let c = 0; c < C; c++) x[c] += h[c]!;
  }
  return { x, prompt: first! };
}

/** The prompt for `fields` under `recipe`, leaving `reserve` tokens of the context free. */
function fitted(lm: FeatureModel, t: FewShotTemplate, recipe: FeatureRecipe, fields: Readonly<Record<string, string>>, reserve: number): FittedPrompt {
  // 'few-shot': every example but one equal to this row, which would hand the row its own answer
  const examples = recipe.context === 'few-shot' ? t.examples.filter((e) => !sameFields(e.fields, fields, recipe.symmetric)) : [];
  return fitPrompt({ ...t, examples }, fields, (text) => lm.tokenizer.encodePrompt(text).length, lm.model.contextLength - reserve);
}

function swap(fields: Readonly<Record<string, string>>, [a, b]: readonly [string, string]): Record<string, string> {
  return { ...fields, [a]: fields[b]!, [b]: fields[a]! };
}

function sameFields(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>, symmetric?: readonly [string, string]): boolean {
  const equal = (x: Readonly<Record<string, string>>) => Object.keys(b).every((k) => x[k] === b[k]);
  return equal(a) || (!!symmetric && equal(swap(a, symmetric)));
}
