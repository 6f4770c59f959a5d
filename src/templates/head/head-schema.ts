/**
 * A trained task head as plain JSON (GPT-1's W_y on the frozen model's final hidden state): what
 * trainHead returns, what a template saves and exports under "head", and what classify / choose
 * apply. Versioned on its own, so the template format around it stays version 1.
 */

/** The head format this code reads and writes. */
export const HEAD_VERSION = 1;

/**
 * How a row becomes features (GPT-1's input transformations, Radford et al. 2018, figure 1):
 * classification, entailment and similarity take the final hidden state of the last token of the
 * rendered query (the pattern's text, "Premise: ...\nHypothesis: ...", is the delimiter between
 * fields); multiple choice takes it after each (context, option) pair.
 */
export interface FeatureRecipe {
  /**
   * What precedes the query: 'zero-shot' the instruction only, 'few-shot' the instruction and the
   * template's examples (a row equal to an example is rendered without it, so it cannot read its
   * own answer). Shared by every row, so it is computed once through the KV cache.
   */
  readonly context: 'zero-shot' | 'few-shot';
  /**
   * Similarity: two fields whose order carries no meaning. The query is rendered in both orders
   * and the two hidden states added, so the features do not depend on the order.
   */
  readonly symmetric?: readonly [string, string];
  /**
   * Multiple choice: two more features per option, its summed log-probability after the prompt
   * and that sum per token (what few-shot scoring ranks by). With the transformer frozen, the
   * hidden state after an option hardly says whether the option is right (measured on the demo
   * model: 30% on 4 options from the state alone), while the likelihood is bilinear in the state
   * before the option and the option's embedding, which no linear layer on one state recovers.
   */
  readonly likelihood?: boolean;
}

/** Feature width of a head: the hidden size, plus 2 with `likelihood`. */
export function featureWidth(C: number, recipe: FeatureRecipe): number {
  return C + (recipe.likelihood ? 2 : 0);
}

/** Cross-validated quality, measured when the head was trained. */
export interface HeadValidation {
  /** Fraction of rows whose out-of-fold prediction was right. */
  readonly accuracy: number;
  readonly folds: number;
  /** Number of labelled rows. */
  readonly rows: number;
  /** The L2 strength cross-validation chose. */
  readonly lambda: number;
  /**
   * confusion[i][j]: rows whose answer is class i (option position i for multiple choice)
   * predicted as j, out of fold.
   */
  readonly confusion: readonly (readonly number[])[];
}

/** A linear layer on the final hidden state, with what it needs to be applied safely. */
export interface TaskHead {
  readonly version: typeof HEAD_VERSION;
  readonly task: 'classification' | 'multiple-choice';
  /** The model whose hidden states it reads: applied to another, it is refused. */
  readonly model: {
    /** Where the model was loaded from (for messages; the hash decides). */
    readonly url: string;
    /** The weights fingerprint (LanguageModel.weightsHash). */
    readonly weightsHash: string;
    /** Hidden size C: the length of every weight row. */
    readonly C: number;
  };
  readonly recipe: FeatureRecipe;
  /**
   * Classification: the label names, one per weight row. Multiple choice: [] (one weight row
   * scores every option).
   */
  readonly labels: readonly string[];
  /** (R, W): R = labels.length (classification) or 1 (multiple choice); W = {@link featureWidth}. */
  readonly weights: readonly (readonly number[])[];
  /** (R) */
  readonly bias: readonly number[];
  readonly validation: HeadValidation;
  /** When it was trained (ISO 8601). */
  readonly trainedAt: string;
}
