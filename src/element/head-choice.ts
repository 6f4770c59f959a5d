/**
 * Few-shot or the trained head: which one answers a template's queries in <gpt-chat template>
 * (the `template-mode` attribute) and in the editor's "try it". `auto`, the default, uses the
 * template's head when it was trained on the loaded model (its weights fingerprint matches) and
 * few-shot otherwise, saying why; `head` insists on the head (an error names what is missing);
 * `few-shot` ignores it.
 */
import type { ModelInfo } from '../engine/engine.ts';
import { GptError } from '../errors.ts';
import type { TaskHead } from '../templates/head/head-schema.ts';
import type { FewShotTemplate } from '../templates/schema.ts';

/** The values of `template-mode`. */
export type TemplateModeSetting = 'auto' | 'head' | 'few-shot';

/** Reads the attribute: anything else is 'auto'. */
export const templateModeOf = (value: string | undefined): TemplateModeSetting => (value === 'head' || value === 'few-shot' ? value : 'auto');

/** The head to answer with (none: few-shot), and a note when a head was passed over. */
export function chooseHead(t: FewShotTemplate, info: Pick<ModelInfo, 'weightsHash' | 'url'>, mode: TemplateModeSetting): { readonly head?: TaskHead; readonly note?: string } {
  if (mode === 'few-shot' || t.task === 'generation') return {};
  const head = t.head;
  if (mode === 'head') {
    if (!head) throw new GptError('bad-head', `template "${t.id}" has no trained head. HINT: train one in the template editor, or set template-mode="few-shot".`);
    return { head }; // one trained on another model is refused by the engine, with both models named
  }
  if (!head) return {};
  if (head.model.weightsHash === info.weightsHash) return { head };
  return { note: `Few-shot: the template's head was trained on another model (${head.model.url}).` };
}

/** How a template answer was reached, in a few words (shown under the bars). */
export function methodLabel(head: TaskHead | undefined): string {
  return head ? `trained head (${Math.round(head.validation.accuracy * 100)}% cross-validated on ${head.validation.rows} rows)` : 'few-shot';
}
