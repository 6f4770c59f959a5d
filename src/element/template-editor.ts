/**
 * `<gpt-template-editor>`: author, test and keep few-shot templates. Edits the instruction,
 * fields, pattern, answer line and labels; an examples table (add, remove, reorder, paste rows of
 * tab-separated text); a live preview of the rendered prompt with its token count against the
 * context window; "try it" with label probability bars; "evaluate" on held-out items with accuracy
 * and a confusion matrix; save, rename (edit the name, save) and delete in IndexedDB; import and
 * export JSON files. The model is the one of a <gpt-chat> on the page (`for` = its id).
 *
 * @csspart base - the whole editor
 * @csspart bars, bar-row, bar, bar-fill - the "try it" probabilities
 * @cssprop --gpt-chat-* - the same theme properties as <gpt-chat>
 */
import { adoptStyles, html, LitElement, nothing, type TemplateResult } from 'lit';
import type { TemplateScores } from '../engine/engine.ts';
import { GptError } from '../errors.ts';
import { BUILTIN_TEMPLATES } from '../templates/builtins.ts';
import { renderPrompt } from '../templates/render.ts';
import type { FewShotTemplate } from '../templates/schema.ts';
import { idbTemplateStore, type TemplateStore } from '../templates/template-store.ts';
import { evaluationReport, parseExampleRows, type EvaluationReport } from '../templates/rows.ts';
import { parseTemplateJson, validateTemplate } from '../templates/validate.ts';
import { templateBarStyles } from './template-bars.ts';
import { draftOf, NEW_TEMPLATE, type Draft } from './template-draft.ts';
import { renderExamples } from './template-examples.ts';
import { renderTemplateForm } from './template-form.ts';
import { renderEvaluation, renderTryIt } from './template-results.ts';
import type { HeadRunner, HeadTraining } from './head-training.ts';
import { templateEditorStyles } from './template-editor-styles.ts';

/** What the editor needs of <gpt-chat> (its public template API). */
export interface TemplateRunner extends HeadRunner {
  readonly contextLength: number | undefined;
  countTokens(text: string): Promise<number>;
}

export class GptTemplateEditor extends LitElement {
  static override styles = [...templateEditorStyles, templateBarStyles];

  static override properties = {
    for: { type: String },
    colorScheme: { type: String, attribute: 'color-scheme', reflect: true },
    draft: { state: true },
    saved: { state: true },
    status: { state: true },
    tokens: { state: true },
    tryFields: { state: true },
    tryResult: { state: true },
    evalReport: { state: true },
    busy: { state: true },
    useHead: { state: true },
  };

  /** Where templates are saved (tests pass their own). */
  static store: TemplateStore = idbTemplateStore();

  /** The id of the <gpt-chat> whose model runs "try it", "evaluate" and the token count. */
  declare for: string | undefined;
  /** `light` or `dark` pins the palette; `auto` (or absent) follows prefers-color-scheme, as on <gpt-chat>. */
  declare colorScheme: 'light' | 'dark' | 'auto' | undefined;
  /** Or set the runner directly (a <gpt-chat> element or anything with its template API). */
  runner: TemplateRunner | undefined;

  declare draft: Draft;
  declare saved: FewShotTemplate[];
  declare status: { readonly kind: 'error' | 'info'; readonly text: string } | undefined;
  declare tokens: number | undefined;
  declare tryFields: Record<string, string>;
  declare tryResult: TemplateScores | undefined;
  declare evalReport: EvaluationReport | undefined;
  declare busy: boolean;
  /** "Try it" and "Evaluate" answer with the draft's trained head (else few-shot). */
  declare useHead: boolean;
  /** Training a head and measuring a learning curve: progress, cancel (once its panel has loaded). */
  training: HeadTraining | undefined;
  #panel: typeof import('./head-panel.ts') | undefined;
  #panelLoad: Promise<HeadTraining> | undefined;

  constructor() {
    super();
    this.draft = draftOf(BUILTIN_TEMPLATES[0]!);
    this.saved = [];
    this.tryFields = {};
    this.busy = false;
    this.useHead = false;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    void this.refresh();
    void this.#loadPanel().catch(() => {}); // a failed chunk load is reported when training is asked for
    // the chat's model loaded: the preview can now be counted
    document.addEventListener('gpt-chat-ready', this.#onReady);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    document.removeEventListener('gpt-chat-ready', this.#onReady);
    clearTimeout(this.#countTimer);
  }

  readonly #onReady = (): void => {
    this.#countedText = undefined;
    this.requestUpdate();
  };

  /** The draft as a valid template; throws GptError('bad-template') saying what is wrong. */
  get template(): FewShotTemplate {
    return validateTemplate(this.draft);
  }

  #runner(): TemplateRunner {
    const r = this.runner ?? (this.for ? (document.getElementById(this.for) as unknown as TemplateRunner | null) : null);
    if (!r || typeof r.classify !== 'function') throw new GptError('bad-argument', `No <gpt-chat> to run the template: set for="id-of-a-gpt-chat" on <gpt-template-editor>.`);
    return r;
  }

  /** Re-reads the saved templates. */
  async refresh(): Promise<void> {
    try {
      this.saved = await GptTemplateEditor.store.list();
    } catch (e) {
      this.status = { kind: 'error', text: `Saved templates could not be read (${GptError.from(e).message}).` };
    }
  }

  /** Puts `template` in the editor (a copy: nothing is saved until {@link save}). */
  load(template: FewShotTemplate): void {
    this.draft = draftOf(template);
    this.tryResult = undefined;
    this.evalReport = undefined;
    this.status = undefined;
    if (this.training) this.training.curve = undefined;
    this.useHead = !!template.head;
  }

  /** Saves the draft under its id (replacing a saved template with the same id). */
  async save(): Promise<void> {
    try {
      await GptTemplateEditor.store.save(this.template);
      this.status = { kind: 'info', text: `Saved "${this.draft.name}" (id ${this.draft.id}).` };
      await this.refresh();
    } catch (e) {
      this.status = { kind: 'error', text: GptError.from(e).message };
    }
  }

  /** Deletes the saved template with the draft's id (the draft stays in the editor). */
  async deleteSaved(): Promise<void> {
    await GptTemplateEditor.store.remove(this.draft.id);
    this.status = { kind: 'info', text: `Deleted the saved template "${this.draft.id}".` };
    await this.refresh();
  }

  /**
   * Reads a template file into the editor. A malformed file changes nothing: the draft and the
   * saved templates stay as they were and the error says what is wrong with the file.
   */
  async importFile(file: File): Promise<boolean> {
    try {
      this.load(parseTemplateJson(await file.text(), file.name));
      this.status = { kind: 'info', text: `Imported ${file.name}. Save to keep it on this device.` };
      return true;
    } catch (e) {
      this.status = { kind: 'error', text: `Could not import ${file.name}: ${GptError.from(e).message}` };
      return false;
    }
  }

  /** The draft as the JSON of a template file (pretty-printed). */
  exportJson(): string {
    return JSON.stringify(this.template, null, 2) + '\n';
  }

  /**
   * Appends examples from tab-separated rows: the fields in order, then the answer. Returns how
   * many were added; a bad row adds nothing and says which row.
   */
  pasteRows(text: string): number {
    try {
      const rows = parseExampleRows(this.template, text);
      this.#edit({ examples: [...this.draft.examples, ...rows] });
      return rows.length;
    } catch (e) {
      this.status = { kind: 'error', text: GptError.from(e).message };
      return 0;
    }
  }

  /** Scores the "try it" fields with the draft; the result shows as bars. */
  async tryIt(): Promise<TemplateScores | undefined> {
    this.busy = true;
    try {
      const t = this.template;
      const fields = Object.fromEntries(t.fields.map((f) => [f, this.tryFields[f] ?? '']));
      const r = this.#runner();
      const options = this.#headOption(t);
      this.tryResult = t.task === 'multiple-choice' ? await r.choose(t, fields, options) : await r.classify(t, fields, options);
      this.status = undefined;
      return this.tryResult;
    } catch (e) {
      this.status = { kind: 'error', text: GptError.from(e).message };
      return undefined;
    } finally {
      this.busy = false;
    }
  }

  /** Runs the draft on held-out rows (tab-separated, as {@link pasteRows}): accuracy and confusion. */
  async evaluate(text: string): Promise<EvaluationReport | undefined> {
    this.busy = true;
    try {
      const t = this.template;
      const items = parseExampleRows(t, text);
      const r = this.#runner();
      const pairs = [];
      const options = this.#headOption(t);
      for (const item of items) {
        const res = t.task === 'multiple-choice' ? await r.choose(t, item.fields, options) : await r.classify(t, item.fields, options);
        pairs.push({ gold: item.answer, predicted: res.answer });
      }
      this.evalReport = evaluationReport(t.task === 'classification' ? t.labels.map((l) => l.name) : [], pairs);
      this.status = undefined;
      return this.evalReport;
    } catch (e) {
      this.status = { kind: 'error', text: GptError.from(e).message };
      return undefined;
    } finally {
      this.busy = false;
    }
  }

  /** The "Train a head" panel's code (a lazy chunk) and its run state. */
  #loadPanel(): Promise<HeadTraining> {
    return (this.#panelLoad ??= import('./head-panel.ts').then((m) => {
      this.#panel = m;
      this.training = new m.HeadTraining(this);
      adoptStyles(this.renderRoot as ShadowRoot, [...GptTemplateEditor.elementStyles, m.panelStyles]);
      this.requestUpdate();
      return this.training;
    }));
  }

  /** The draft's head when "Trained head" is switched on. */
  #headOption(t: FewShotTemplate): { head?: NonNullable<FewShotTemplate['head']> } {
    return this.useHead && t.head ? { head: t.head } : {};
  }


  /**
   * Trains a head on pasted rows (`text`, tab- or comma-separated) or on the examples (no text).
   * The head goes into the draft (Save keeps it; Export writes it); bad rows, a single class or a
   * cancel change nothing and say why.
   */
  async trainHead(text?: string): Promise<boolean> {
    const { head, status } = await (await this.#loadPanel()).trainFor(() => [this.template, this.#runner()], text);
    if (head) {
      this.#edit({ head });
      this.useHead = true;
    }
    this.status = status;
    return !!head;
  }

  /** Few-shot vs head accuracy against the number of rows, on pasted rows or the examples. */
  async learningCurve(text?: string): Promise<boolean> {
    this.status = await (await this.#loadPanel()).curveFor(() => [this.template, this.#runner()], text);
    return !this.status;
  }

  #edit(patch: Partial<Draft>): void {
    this.draft = { ...this.draft, ...patch };
  }

  /** The rendered preview of the last render, counted after it (not during it). */
  #preview: string | undefined;

  protected override updated(): void {
    if (this.#preview !== undefined) this.#scheduleCount(this.#preview);
  }

  /** The token count of the preview, debounced: one count per pause in typing. */
  #countTimer: ReturnType<typeof setTimeout> | undefined;
  #countedText: string | undefined;
  #scheduleCount(text: string): void {
    if (text === this.#countedText) return;
    this.#countedText = text;
    clearTimeout(this.#countTimer);
    this.#countTimer = setTimeout(async () => {
      try {
        const r = this.#runner();
        if (r.contextLength === undefined) {
          this.#countedText = undefined; // counted once the model is loaded (gpt-chat-ready)
          return;
        }
        const n = await r.countTokens(text);
        if (this.#countedText === text) this.tokens = n;
      } catch {
        this.tokens = undefined;
      }
    }, 250);
  }

  override render(): TemplateResult {
    const d = this.draft;
    let error: string | undefined;
    let preview = '';
    try {
      const t = validateTemplate(d);
      const sample = Object.fromEntries(t.fields.map((f) => [f, this.tryFields[f] || `{{${f}}}`]));
      preview = renderPrompt(t, sample);
      this.#preview = preview;
    } catch (e) {
      error = GptError.from(e).message;
    }
    const ctx = (() => {
      try {
        return this.#runner().contextLength;
      } catch {
        return undefined;
      }
    })();
    return html`<div part="base" class="base">
      ${this.#renderLibrary()}
      ${this.status ? html`<p class=${this.status.kind === 'error' ? 'error status' : 'muted status'} role=${this.status.kind === 'error' ? 'alert' : 'status'}>${this.status.text}</p>` : nothing}
      ${renderTemplateForm(d, (patch) => this.#edit(patch))}
      ${renderExamples(d, (patch) => this.#edit(patch), (text) => this.pasteRows(text))}
      <fieldset>
        <legend>Preview</legend>
        ${error
          ? html`<p class="error validation" role="alert">${error}</p>`
          : html`<pre class="preview" aria-label="Rendered prompt">${preview}</pre>
              <p class="muted tokens">${this.tokens === undefined ? 'Token count: load the model in the chat to count.' : html`<span class=${ctx !== undefined && this.tokens > ctx ? 'over' : ''}>${this.tokens} tokens</span>${ctx !== undefined ? ` of a ${ctx}-token context window` : ''}`}</p>`}
      </fieldset>
      ${renderTryIt(
        d,
        { fields: this.tryFields, result: this.tryResult, busy: this.busy },
        { input: (f, v) => (this.tryFields = { ...this.tryFields, [f]: v }), score: () => void this.tryIt() },
        this.#panel?.renderAnswerWith(d, this.useHead, (on) => (this.useHead = on)),
      )}
      ${renderEvaluation(this.evalReport, this.busy, (rows) => void this.evaluate(rows))}
      ${!this.#panel || !this.training ? nothing : this.#panel.renderTraining(d, this.training.progress, this.training.curve, {
        train: (rows) => void this.trainHead(rows),
        curve: (rows) => void this.learningCurve(rows),
        cancel: () => this.training?.cancel(),
        removeHead: () => {
          const { head: _, ...rest } = this.draft;
          this.draft = rest;
          this.useHead = false;
        },
      })}
    </div>`;
  }

  #renderLibrary(): TemplateResult {
    const pick = (e: Event) => {
      const id = (e.target as HTMLSelectElement).value;
      const t = [...this.saved, ...BUILTIN_TEMPLATES].find((x) => `${BUILTIN_TEMPLATES.includes(x) ? 'builtin' : 'saved'}:${x.id}` === id);
      if (t) this.load(t);
    };
    return html`<div class="row library">
      <label>Open
        <select class="open" @change=${pick}>
          <option value="">Choose a template…</option>
          <optgroup label="Saved on this device">${this.saved.map((t) => html`<option value=${'saved:' + t.id}>${t.name} (${t.id})</option>`)}</optgroup>
          <optgroup label="Built-in">${BUILTIN_TEMPLATES.map((t) => html`<option value=${'builtin:' + t.id}>${t.name}</option>`)}</optgroup>
        </select>
      </label>
      <button type="button" class="new" @click=${() => this.load(NEW_TEMPLATE)}>New</button>
      <button type="button" class="save primary" @click=${() => this.save()}>Save</button>
      <button type="button" class="delete" ?disabled=${!this.saved.some((t) => t.id === this.draft.id)} @click=${() => this.deleteSaved()}>Delete</button>
      <label class="import button">Import JSON
        <input type="file" class="visually-hidden" accept="application/json,.json" @change=${(e: Event) => {
          const input = e.target as HTMLInputElement;
          const file = input.files?.[0];
          if (file) void this.importFile(file).finally(() => (input.value = ''));
        }} />
      </label>
      <button type="button" class="export" ?disabled=${!!this.#error()} @click=${() => this.#download()}>Export JSON</button>
    </div>`;
  }

  #error(): string | undefined {
    try {
      validateTemplate(this.draft);
      return undefined;
    } catch (e) {
      return GptError.from(e).message;
    }
  }

  #download(): void {
    const url = URL.createObjectURL(new Blob([this.exportJson()], { type: 'application/json' }));
    const a = document.createElement('a');
    a.href = url;
    a.download = `${this.draft.id}.json`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  }
}
