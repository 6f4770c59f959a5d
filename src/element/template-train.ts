/**
 * The "Train a head" fieldset of <gpt-template-editor> (GPT-1's way, beside few-shot): train on the
 * examples table or on pasted labelled rows, with progress and Cancel; the head's cross-validated
 * accuracy and confusion matrix; a learning curve of few-shot against the head.
 */
import { html, nothing, type TemplateResult } from 'lit';
import type { TaskHead } from '../templates/head/head-schema.ts';
import type { LearningCurve } from '../templates/head/learning-curve.ts';
import type { TrainingProgress } from './head-training.ts';
import { renderLearningCurve } from './learning-curve-chart.ts';
import type { Draft } from './template-draft.ts';
import { renderConfusion } from './template-results.ts';

export interface TrainActions {
  /** Train on the examples table (`undefined`) or on pasted rows. */
  train(rows: string | undefined): void;
  curve(rows: string | undefined): void;
  cancel(): void;
  removeHead(): void;
}

/** The switch of "Try it" (and "Evaluate"): few-shot or the draft's trained head. */
export function renderAnswerWith(d: Draft, useHead: boolean, set: (head: boolean) => void): TemplateResult {
  const head = useHead && !!d.head;
  return html`<div class="row answer-with" role="radiogroup" aria-label="Answer with">
    <label><input type="radio" name="answer-with" class="use-few-shot" .checked=${!head} @change=${() => set(false)} /> Few-shot</label>
    <label><input type="radio" name="answer-with" class="use-head" .checked=${head} ?disabled=${!d.head} @change=${() => set(true)} /> Trained head${d.head ? '' : ' (train one below)'}</label>
  </div>`;
}

const rowsOf = (e: Event) => (e.currentTarget as HTMLElement).closest('fieldset')!.querySelector<HTMLTextAreaElement>('textarea.train-rows')!.value;

export function renderTraining(d: Draft, progress: TrainingProgress | undefined, curve: LearningCurve | undefined, on: TrainActions): TemplateResult {
  if (d.task === 'generation') return html``;
  const busy = !!progress;
  const pasted = (e: Event) => rowsOf(e).trim() || undefined;
  return html`<fieldset class="train">
    <legend>Train a head</legend>
    <p class="muted">Learns the task from labelled rows: a linear layer on the model's last hidden state (the model itself stays as it is). Needs rows of at least two ${d.task === 'classification' ? 'labels' : 'answers'}; accuracy is cross-validated.</p>
    <label>Labelled rows (tab- or comma-separated: ${[...d.fields, d.task === 'classification' ? 'label' : 'answer'].join(', ')}); empty: the examples table
      <textarea class="train-rows" rows="3"></textarea>
    </label>
    <div class="row">
      <button type="button" class="train-examples" ?disabled=${busy} @click=${() => on.train(undefined)}>Train on the examples (${d.examples.length})</button>
      <button type="button" class="train-button primary" ?disabled=${busy} @click=${(e: Event) => on.train(rowsOf(e))}>Train on these rows</button>
      <button type="button" class="curve-button" ?disabled=${busy} @click=${(e: Event) => on.curve(pasted(e))}>Learning curve</button>
    </div>
    ${progress
      ? html`<div class="row train-progress-row" role="status">
          <label>${progress.what}: ${progress.done} of ${progress.total}
            <progress class="train-progress" max=${progress.total} .value=${progress.done}></progress>
          </label>
          <button type="button" class="train-cancel" @click=${on.cancel}>Cancel</button>
        </div>`
      : nothing}
    ${d.head ? renderHead(d.head, on) : html`<p class="muted no-head">No head yet: "Try it" uses few-shot.</p>`}
    ${curve ? renderLearningCurve(curve) : nothing}
  </fieldset>`;
}

function renderHead(h: TaskHead, on: TrainActions): TemplateResult {
  const v = h.validation;
  const labels = h.task === 'classification' ? [...h.labels] : v.confusion.map((_, i) => `option ${i + 1}`);
  const correct = v.confusion.reduce((s, row, i) => s + (row[i] ?? 0), 0);
  return html`<div class="head-report">
    <p class="head-accuracy" role="status">Head: ${(v.accuracy * 100).toFixed(1)}% cross-validated accuracy (${correct} of ${v.rows} rows right out of fold, ${v.folds} folds, λ ${v.lambda}), trained on ${h.model.url} on ${h.trainedAt.slice(0, 10)}.</p>
    ${renderConfusion({ n: v.rows, correct, labels, confusion: v.confusion }, 'Cross-validated confusion matrix (rows: right answer, columns: predicted)')}
    <button type="button" class="remove-head" @click=${on.removeHead}>Remove the head</button>
  </div>`;
}
