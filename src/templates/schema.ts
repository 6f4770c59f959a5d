/**
 * The few-shot template format (JSON, version 1): a GPT-3 style in-context task written as text.
 *
 * A prompt is the instruction, then k solved examples, then the query, joined by `separator`:
 *
 *     Classify each review as positive or negative.      <- instruction ({{label1}}, {{label2}} filled)
 *
 *     Review: The soup was cold.                         <- pattern, {{text}} filled
 *     Sentiment: negative                                <- answer, {{answer}} filled
 *
 *     Review: I loved it.
 *     Sentiment:                                         <- the query stops before the answer
 *
 * A candidate's score is log p(" negative" | prompt): the whitespace that ends the answer prefix
 * ("Sentiment: ") moves into the scored text, because byte-level BPE tokenizers attach a space to
 * the word after it (" negative" is one token, "negative" after "Sentiment: " is not how the model
 * saw it in training). This is the format of tools/demo-model/fewshot.py, byte for byte.
 */

import type { TaskHead } from './head/head-schema.ts';

/** The version this code reads and writes; anything else is refused with a hint. */
export const TEMPLATE_VERSION = 1;

/** What the template asks of the model. */
export type TaskKind = 'classification' | 'multiple-choice' | 'generation';

/** One class of a classification template. */
export interface TemplateLabel {
  /** What people see (bars, confusion matrix) and what examples name as their answer. */
  readonly name: string;
  /** What the model should write for this class, scored after the answer prefix; may be several tokens. */
  readonly text: string;
}

/** One solved example (or a held-out item: the same shape). */
export interface TemplateExample {
  /** A value for every field of the template. */
  readonly fields: Readonly<Record<string, string>>;
  /**
   * The right answer: a label `name` (classification), the text of one of the option fields
   * (multiple choice), or free text (generation).
   */
  readonly answer: string;
}

/** A validated few-shot template (see {@link validateTemplate}). */
export interface FewShotTemplate {
  readonly version: typeof TEMPLATE_VERSION;
  /** Stable key: storage key, the `template` attribute of <gpt-chat>. Letters, digits, `-`, `_`. */
  readonly id: string;
  /** Display name. */
  readonly name: string;
  readonly task: TaskKind;
  /** Text before the examples; may name the labels as {{label1}} .. {{labelN}}. '' for none. */
  readonly instruction: string;
  /** Names of the input fields, in the order a form shows them. */
  readonly fields: readonly string[];
  /** One example's input, with a {{field}} slot per field, e.g. "Review: {{text}}\n". */
  readonly pattern: string;
  /** The answer line, ending in the {{answer}} slot, e.g. "Sentiment: {{answer}}". */
  readonly answer: string;
  /** Classification: the classes, in instruction order. Empty for the other kinds. */
  readonly labels: readonly TemplateLabel[];
  /** Multiple choice: the fields that hold the options (each item has its own). Empty otherwise. */
  readonly options: readonly string[];
  readonly examples: readonly TemplateExample[];
  /** Between the instruction, the examples and the query. */
  readonly separator: string;
  /**
   * Content-free inputs for calibration (Zhao et al. 2021): every field set to one of these.
   * Default ["N/A"].
   */
  readonly contentFree: readonly string[];
  /**
   * A task head trained on labelled rows (trainHead, head/head-schema.ts), used by classify /
   * choose when asked; absent until one is trained. Versioned on its own.
   */
  readonly head?: TaskHead;
}

/** Normalisations of label scores for classification. */
export type ClassifyNormalisation = 'summed' | 'mean' | 'calibrated';

/** Normalisations of option scores for multiple choice (GPT-3 section 2.4 and appendix G). */
export type ChooseNormalisation = 'summed' | 'mean' | 'length' | 'unconditional';
