/**
 * The "Examples" fieldset of <gpt-template-editor>: the solved examples as a table (one input per
 * field and the answer; move up, down, remove), and rows pasted as tab-separated text. In a
 * narrow editor each row becomes a card with the column names beside its inputs (the styles'
 * `table.stack`).
 */
import { html, type TemplateResult } from 'lit';
import type { Draft, EditDraft } from './template-draft.ts';

/** `paste(text)` appends tab-separated rows and returns how many it added. */
export function renderExamples(d: Draft, edit: EditDraft, paste: (text: string) => number): TemplateResult {
  const ex = d.examples;
  const setField = (i: number, f: string) => (e: Event) =>
    edit({ examples: ex.map((x, j) => (j === i ? { ...x, fields: { ...x.fields, [f]: (e.target as HTMLInputElement).value } } : x)) });
  const setAnswer = (i: number) => (e: Event) => edit({ examples: ex.map((x, j) => (j === i ? { ...x, answer: (e.target as HTMLInputElement).value } : x)) });
  const move = (i: number, by: number) => {
    const next = ex.slice();
    const [item] = next.splice(i, 1);
    next.splice(i + by, 0, item!);
    edit({ examples: next });
  };
  return html`<fieldset class="examples-set">
    <legend>Examples (${ex.length}; the oldest are left out first when the prompt is too long)</legend>
    <table class="examples stack">
      <thead><tr>${d.fields.map((f) => html`<th scope="col">${f}</th>`)}<th scope="col">answer</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
      <tbody>
        ${ex.map(
          (x, i) => html`<tr>
            ${d.fields.map((f) => html`<td data-label=${f}><input aria-label=${`Example ${i + 1} ${f}`} .value=${x.fields[f] ?? ''} @input=${setField(i, f)} /></td>`)}
            <td data-label="answer"><input aria-label=${`Example ${i + 1} answer`} .value=${x.answer} @input=${setAnswer(i)} /></td>
            <td class="actions">
              <button type="button" aria-label=${`Move example ${i + 1} up`} ?disabled=${i === 0} @click=${() => move(i, -1)}>↑</button>
              <button type="button" aria-label=${`Move example ${i + 1} down`} ?disabled=${i === ex.length - 1} @click=${() => move(i, 1)}>↓</button>
              <button type="button" aria-label=${`Remove example ${i + 1}`} @click=${() => edit({ examples: ex.filter((_, j) => j !== i) })}>Remove</button>
            </td>
          </tr>`,
        )}
      </tbody>
    </table>
    <div class="row">
      <button type="button" class="add-example" @click=${() => edit({ examples: [...ex, { fields: Object.fromEntries(d.fields.map((f) => [f, ''])), answer: d.labels[0]?.name ?? '' }] })}>Add example</button>
    </div>
    <label>Paste rows (tab-separated: ${[...d.fields, 'answer'].join(', ')})
      <textarea class="paste" rows="2"></textarea>
    </label>
    <div><button type="button" class="paste-button" @click=${(e: Event) => {
      const area = (e.currentTarget as HTMLElement).closest('fieldset')!.querySelector<HTMLTextAreaElement>('textarea.paste')!;
      if (paste(area.value) > 0) area.value = '';
    }}>Add pasted rows</button></div>
  </fieldset>`;
}
