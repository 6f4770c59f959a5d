/**
 * The "Template" fieldset of <gpt-template-editor>: name, id, task, instruction, fields, pattern,
 * answer line, and the labels (classification) or option fields (multiple choice).
 */
import { html, nothing, type TemplateResult } from 'lit';
import type { TaskKind, TemplateLabel } from '../templates/schema.ts';
import type { Draft, EditDraft } from './template-draft.ts';

/** The template's own settings, edited in place through `edit`. */
export function renderTemplateForm(d: Draft, edit: EditDraft): TemplateResult {
  const text = (key: 'id' | 'name' | 'instruction' | 'pattern' | 'answer') => (e: Event) => edit({ [key]: (e.target as HTMLInputElement).value });
  const list = (v: string) => v.split(',').map((s) => s.trim()).filter(Boolean);
  return html`<fieldset>
    <legend>Template</legend>
    <div class="row">
      <label>Name <input class="name" .value=${d.name} @input=${text('name')} /></label>
      <label>Id <input class="id" .value=${d.id} @input=${text('id')} /></label>
      <label>Task
        <select class="task" .value=${d.task} @change=${(e: Event) => edit({ task: (e.target as HTMLSelectElement).value as TaskKind })}>
          <option value="classification">classification</option>
          <option value="multiple-choice">multiple choice</option>
          <option value="generation">generation</option>
        </select>
      </label>
    </div>
    <label>Instruction ({{label1}}, {{label2}} … name the labels)
      <textarea class="instruction" rows="2" .value=${d.instruction} @input=${text('instruction')}></textarea>
    </label>
    <label>Fields (comma-separated)
      <input class="fields" .value=${d.fields.join(', ')} @change=${(e: Event) => edit({ fields: list((e.target as HTMLInputElement).value) })} />
    </label>
    <label>Pattern (one example's input, {{field}} slots)
      <textarea class="pattern" rows="2" .value=${d.pattern} @input=${text('pattern')}></textarea>
    </label>
    <label>Answer line (ends with {{answer}})
      <input class="answer" .value=${d.answer} @input=${text('answer')} />
    </label>
    ${d.task === 'classification' ? renderLabels(d.labels, edit) : nothing}
    ${d.task === 'multiple-choice'
      ? html`<label>Option fields (comma-separated)
          <input class="options" .value=${d.options.join(', ')} @change=${(e: Event) => edit({ options: list((e.target as HTMLInputElement).value) })} />
        </label>`
      : nothing}
  </fieldset>`;
}

/** The labels table: the name a result reports and the text the model writes for it. */
function renderLabels(labels: readonly TemplateLabel[], edit: EditDraft): TemplateResult {
  const set = (i: number, key: 'name' | 'text') => (e: Event) =>
    edit({ labels: labels.map((l, j) => (j === i ? { ...l, [key]: (e.target as HTMLInputElement).value } : l)) });
  return html`<table class="labels stack">
      <caption class="visually-hidden">Labels</caption>
      <thead><tr><th scope="col">Label</th><th scope="col">Text the model writes</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
      <tbody>
        ${labels.map(
          (l, i) => html`<tr>
            <td data-label="Label"><input aria-label=${`Label ${i + 1} name`} .value=${l.name} @input=${set(i, 'name')} /></td>
            <td data-label="Text the model writes"><input aria-label=${`Label ${i + 1} text`} .value=${l.text} @input=${set(i, 'text')} /></td>
            <td class="actions"><button type="button" aria-label=${`Remove label ${l.name}`} @click=${() => edit({ labels: labels.filter((_, j) => j !== i) })}>Remove</button></td>
          </tr>`,
        )}
      </tbody>
    </table>
    <div><button type="button" class="add-label" @click=${() => edit({ labels: [...labels, { name: `label${labels.length + 1}`, text: `label${labels.length + 1}` }] })}>Add label</button></div>`;
}
