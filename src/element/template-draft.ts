/**
 * The editable form of a few-shot template in <gpt-template-editor>, and the starting point of
 * "New". Render modules of the editor (form, examples, results) take a draft and an `edit`
 * callback, so each one is a function of its inputs.
 */
import { TEMPLATE_VERSION, type FewShotTemplate } from '../templates/schema.ts';

/** The editable form of a template: every key present, arrays mutable copies. */
export type Draft = { -readonly [K in keyof FewShotTemplate]: FewShotTemplate[K] };

/** Applies a change to the draft (the editor re-renders). */
export type EditDraft = (patch: Partial<Draft>) => void;

/** What "New" puts in the editor. */
export const NEW_TEMPLATE: FewShotTemplate = {
  version: TEMPLATE_VERSION,
  id: 'my-template',
  name: 'My template',
  task: 'classification',
  instruction: 'Classify each message as {{label1}} or {{label2}}.',
  fields: ['text'],
  pattern: 'Message: {{text}}\n',
  answer: 'Label: {{answer}}',
  labels: [{ name: 'yes', text: 'yes' }, { name: 'no', text: 'no' }],
  options: [],
  examples: [],
  separator: '\n\n',
  contentFree: ['N/A'],
};

/** A deep copy of `t` to edit: nothing reaches the saved template until it is saved. */
export const draftOf = (t: FewShotTemplate): Draft => JSON.parse(JSON.stringify(t)) as Draft;
