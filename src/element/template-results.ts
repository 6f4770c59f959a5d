/**
 * The result panels of <gpt-template-editor>: "Try it" (one query, label probability bars) and
 * "Evaluate" (held-out rows, accuracy and a confusion matrix).
 */
import { html, nothing, type TemplateResult } from 'lit';
import type { TemplateScores } from '../engine/engine.ts';
import type { EvaluationReport } from '../templates/rows.ts';
import { renderBars } from './template-bars.ts';
import type { Draft } from './template-draft.ts';

/** The "Try it" inputs, one per field, and the bars of the last result. */
export function renderTryIt(
  d: Draft,
  state: { readonly fields: Readonly<Record<string, string>>; readonly result: TemplateScores | undefined; readonly busy: boolean },
  on: { readonly input: (field: string, value: string) => void; readonly score: () => void },
  /** The few-shot / head switch (template-train.ts), once the head panel has loaded. */
  answerWith: unknown = nothing,
): TemplateResult {
  if (d.task === 'generation') return html``;
  return html`<fieldset class="try">
    <legend>Try it</legend>
    ${answerWith}
    ${d.fields.map(
      (f) => html`<label>${f}
        <input class=${'try-' + f} .value=${state.fields[f] ?? ''} @input=${(e: Event) => on.input(f, (e.target as HTMLInputElement).value)} />
      </label>`,
    )}
    <div><button type="button" class="try-button primary" ?disabled=${state.busy} @click=${on.score}>Score</button></div>
    ${state.result ? renderBars(state.result) : nothing}
  </fieldset>`;
}

/** The held-out rows box and, once run, the accuracy and the confusion matrix. */
export function renderEvaluation(report: EvaluationReport | undefined, busy: boolean, evaluate: (rows: string) => void): TemplateResult {
  return html`<fieldset class="evaluate">
    <legend>Evaluate on held-out items</legend>
    <label>Items (tab-separated: fields, then the right answer)
      <textarea class="eval-items" rows="3"></textarea>
    </label>
    <div><button type="button" class="eval-button" ?disabled=${busy} @click=${(e: Event) =>
      evaluate((e.currentTarget as HTMLElement).closest('fieldset')!.querySelector<HTMLTextAreaElement>('textarea.eval-items')!.value)}>Evaluate</button></div>
    ${report
      ? html`<p class="accuracy" role="status">Accuracy ${((100 * report.correct) / Math.max(1, report.n)).toFixed(1)}% (${report.correct} of ${report.n})</p>
          ${report.labels.length ? renderConfusion(report) : nothing}`
      : nothing}
  </fieldset>`;
}

/**
 * Rows are the right answers, columns the predictions. In its own scrolling box: with many labels
 * the matrix may be wider than a narrow editor, and only the matrix should scroll then.
 */
export function renderConfusion(r: EvaluationReport, caption = 'Confusion matrix (rows: right answer, columns: predicted)'): TemplateResult {
  return html`<div class="confusion-box" tabindex="0" role="region" aria-label=${caption}>
    <table class="confusion">
      <caption>${caption}</caption>
      <thead><tr><th scope="col"></th>${r.labels.map((l) => html`<th scope="col">${l}</th>`)}</tr></thead>
      <tbody>${r.labels.map((l, i) => html`<tr><th scope="row">${l}</th>${r.confusion[i]!.map((n) => html`<td class=${n === 0 ? 'zero' : ''}>${n}</td>`)}</tr>`)}</tbody>
    </table>
  </div>`;
}
