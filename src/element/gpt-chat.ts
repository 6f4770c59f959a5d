/**
 * `<gpt-chat>`: a chat box whose language model runs in the visitor's browser, in a Web Worker.
 *
 * @fires gpt-chat-load-progress - bytes of the model loaded so far ({@link EngineLoadProgress})
 * @fires gpt-chat-ready - the model is loaded ({@link ModelInfo})
 * @fires gpt-chat-token - one token of the reply being generated
 * @fires gpt-chat-message - a reply finished
 * @fires gpt-chat-storage - the browser answered the request to keep this site's storage ({ persisted })
 * @fires gpt-chat-error - something failed ({ code, message })
 *
 * @csspart base - the whole box
 * @csspart header - the line with the model name and state
 * @csspart log - the conversation (role="log")
 * @csspart message - every message
 * @csspart message-user - a message the user sent
 * @csspart message-assistant - a reply of the model
 * @csspart actions - the Copy / Regenerate buttons under a reply
 * @csspart status - progress, notices and errors
 * @csspart progress - the load progress bar
 * @csspart composer - the form with the input and buttons
 * @csspart input - the text area
 * @csspart send-button, stop-button, clear-button, retry-button, download-button, cancel-button, undo-button - the buttons of those names
 * @csspart jump-button - "Jump to latest", shown when the reader scrolled up during a reply
 * @csspart code-block, inline-code, link, table - markdown in replies
 * @csspart copy-code-button - the Copy button of a code block
 * @csspart bars, bar-row, bar, bar-fill - label probabilities in template mode
 * @csspart local-files - the "Use files from this computer" disclosure
 * @csspart folder-button, gguf-button - its "Choose a model folder…" and "Choose a .gguf file…" buttons
 * @csspart folder-input, gguf-input - its file inputs (`webkitdirectory`, and `accept=".gguf"`)
 * @csspart token-low, token-tip - with show-confidence: a token under the threshold, and its tooltip
 *
 * @cssprop --gpt-chat-background - the box's background
 * @cssprop --gpt-chat-color - text
 * @cssprop --gpt-chat-muted-color - secondary text (the header, notices, small buttons)
 * @cssprop --gpt-chat-border-color - borders and dividers
 * @cssprop --gpt-chat-user-background - the user's messages
 * @cssprop --gpt-chat-assistant-background - the model's replies
 * @cssprop --gpt-chat-code-background - code in replies
 * @cssprop --gpt-chat-accent-color - primary buttons, links, focus rings, the progress bar
 * @cssprop --gpt-chat-accent-text-color - text on the accent colour
 * @cssprop --gpt-chat-error-color - errors
 * @cssprop --gpt-chat-radius - corner radius
 * @cssprop --gpt-chat-gap - spacing
 * @cssprop --gpt-chat-font - the font
 * @cssprop --gpt-chat-mono-font - the font of code
 */
import { adoptStyles, html, LitElement, nothing, type TemplateResult } from 'lit';
import { clearCache, deleteCachedModel, isModelCached, listCachedModels, canonicalModelUrl } from '../engine/cache-admin.ts';
import { createEngine } from '../engine/engine-choice.ts';
import type { EngineKind, HeadTrainingOptions, LocalFilesInput, ModelInfo, QuantizeOnLoad, TemplateRunOptions, TemplateScores } from '../engine/engine.ts';
import { localSpec, pickedFiles } from '../engine/local-files.ts';
import type { TaskHead } from '../templates/head/head-schema.ts';
import type { TrainHeadProgress } from '../templates/head/train-head.ts';
import type { ChooseNormalisation, ClassifyNormalisation, FewShotTemplate } from '../templates/schema.ts';
import { idbTemplateStore, type TemplateStore } from '../templates/template-store.ts';
import { templateBarStyles } from './template-bars.ts';
import { TemplateMode, type TemplateTurn } from './template-mode.ts';
import { TemplateApi } from './template-api.ts';
import { templateModeOf } from './head-choice.ts';
import { DEFAULT_CONFIDENCE_THRESHOLD, thresholdOf } from './reply-tokens.ts';
import { copyCodeOnClick, copyText, renderChatLog, renderTemplateLog } from './chat-log.ts';
import { renderStatus, sendLabel } from './chat-status.ts';
import { renderHeader } from './chat-header.ts';
import { ChatController, ChatStatus, type ChatDeps } from './chat-controller.ts';
import { idbConversationStore } from './conversation-store.ts';
import { bundledModelUrl, explainBundledModelError } from './default-model.ts';
import type { ChatTurn } from './events.ts';
import { gptChatStyles } from './gpt-chat-styles.ts';
import { exportModel, LocalFiles, localFilesStyles, type ExportTarget } from './chat-local-files.ts';

export class GptChat extends LitElement {
  static override styles = [...gptChatStyles, templateBarStyles, localFilesStyles];

  static override properties = {
    model: { type: String },
    engine: { type: String },
    quantize: { type: String },
    systemPrompt: { type: String, attribute: 'system-prompt' },
    temperature: { type: Number },
    topP: { type: Number, attribute: 'top-p' },
    maxTokens: { type: Number, attribute: 'max-tokens' },
    placeholder: { type: String },
    persist: { type: String },
    template: { type: String },
    autoload: { type: Boolean },
    workerUrl: { type: String, attribute: 'worker-url' },
    colorScheme: { type: String, attribute: 'color-scheme', reflect: true },
    showSpeed: { type: Boolean, attribute: 'show-speed' },
    templateMode: { type: String, attribute: 'template-mode' },
    showConfidence: { type: Boolean, attribute: 'show-confidence' },
    confidenceThreshold: { type: Number, attribute: 'confidence-threshold' },
    warmPrompt: { attribute: 'warm-prompt', converter: (v: string | null) => v !== 'off' && v !== 'false' },
  };

  /**
   * The model used when `model` is absent: the bundled demo model beside the script
   * (`../models/gpt-chat-demo/` relative to gpt-chat.js). Set before elements connect to change it.
   */
  static defaultModel: string = bundledModelUrl();

  /** Dependencies of every new element's controller (tests replace the engine or the store). */
  static deps: Partial<ChatDeps> = {};

  /** Where saved templates are read from (the one <gpt-template-editor> writes; tests pass their own). */
  static templateStore: TemplateStore = idbTemplateStore();

  // Reactive properties are `declare`d and given their defaults in the constructor: a class field
  // would shadow the accessor Lit installs wherever fields use define semantics (esbuild without
  // our tsconfig, native fields) and updates would be lost. See https://lit.dev/msg/class-field-shadowing
  /** URL of a Hugging Face style model folder; the bundled demo model when absent. */
  declare model: string | undefined;
  /** Which engine runs the model (default auto: WebGPU when available, else the CPU). */
  declare engine: EngineKind;
  /**
   * Quantize the model as it loads: "q8_0" (a quarter of f32's memory, near-lossless) or "q4_0"
   * (an eighth, a small loss); unset, the checkpoint's dtype. Any other value is an error.
   */
  declare quantize: QuantizeOnLoad | undefined;
  /** Instructions sent as the system message of every request. */
  declare systemPrompt: string;
  /** Sampling temperature (default 0.7; 0 is greedy). */
  declare temperature: number;
  /** Nucleus sampling threshold (default 0.9). */
  declare topP: number;
  /** Most tokens in one reply (default 256). */
  declare maxTokens: number;
  /** Placeholder text of the empty input (default "Message"). */
  declare placeholder: string;
  /** A key under which the conversation is kept in IndexedDB across reloads. */
  declare persist: string | undefined;
  /**
   * Template mode: a built-in template id ("sentiment", "topic", "entailment", "similarity",
   * "multiple-choice") or the id of a saved one. Each message is then a query of that template,
   * answered with label probability bars (or a completion, for generation templates).
   */
  declare template: string | undefined;
  /** Download large models without asking first. */
  declare autoload: boolean;
  /** URL of gpt-chat-worker.js, for pages whose CSP forbids blob: workers (default: beside gpt-chat.js). */
  declare workerUrl: string | undefined;
  /** `light` or `dark` pins the palette; `auto` (or absent) follows prefers-color-scheme. */
  declare colorScheme: 'light' | 'dark' | 'auto' | undefined;
  /** Show the reply's speed (tokens per second) in the header. */
  declare showSpeed: boolean;
  /**
   * Template mode's answers: `auto` uses the template's trained head when it was trained on the
   * loaded model, else few-shot; `head` always the head (an error without one); `few-shot` never.
   */
  declare templateMode: 'auto' | 'head' | 'few-shot';
  /**
   * Show how sure the model was of each token (replies then show as plain text, token by token):
   * those under `confidence-threshold` are underlined and focusable, with their probability and
   * the top alternatives; `gpt-chat-token` carries `logprob` and `top`. Off, nothing is computed.
   */
  declare showConfidence: boolean;
  /** With show-confidence: tokens under this probability are marked (default 0.5). */
  declare confidenceThreshold: number;
  /**
   * While the visitor types, read ahead the prompt the next message will begin with (system
   * prompt, earlier turns), so sending reads only the new message (default true; `warm-prompt="off"`).
   */
  declare warmPrompt: boolean;

  constructor() {
    super();
    this.engine = 'auto';
    this.systemPrompt = '';
    this.temperature = 0.7;
    this.topP = 0.9;
    this.maxTokens = 256;
    this.placeholder = 'Message';
    this.autoload = false;
    this.showSpeed = false;
    this.templateMode = 'auto';
    this.showConfidence = false;
    this.confidenceThreshold = DEFAULT_CONFIDENCE_THRESHOLD;
    this.warmPrompt = true;
    this.addEventListener('keydown', this.#onHostKeydown);
  }

  readonly #local = new LocalFiles(this, (files) => void this.loadFiles(files).catch(() => {}));

  readonly #chat = new ChatController(
    this,
    () => ({
      local: this.#local.spec,
      model: this.#modelUrl(),
      engine: this.engine,
      quantize: this.quantize || undefined,
      systemPrompt: this.systemPrompt,
      temperature: Number.isFinite(this.temperature) ? this.temperature : 0.7,
      topP: Number.isFinite(this.topP) ? this.topP : 0.9,
      maxTokens: Number.isFinite(this.maxTokens) && this.maxTokens > 0 ? Math.floor(this.maxTokens) : 256,
      persist: this.persist || undefined,
      autoload: this.autoload,
      workerUrl: this.workerUrl || undefined,
      showConfidence: this.showConfidence,
      warmPrompt: this.warmPrompt,
    }),
    {
      createEngine,
      store: idbConversationStore(),
      storedModelBytes: async (url) => (await listCachedModels()).find((m) => m.url === canonicalModelUrl(url))?.bytes ?? 0,
      isSmallModel: (url) => url === canonicalModelUrl(GptChat.defaultModel),
      explainLoadError: (error, url) => (url === bundledModelUrl() ? explainBundledModelError(error, url) : error),
      ...GptChat.deps,
    },
  );

  readonly #templates = new TemplateMode(this, (fn) => this.#chat.withEngine(fn), () => GptChat.templateStore, () => templateModeOf(this.templateMode));

  /** Template mode's queries and answers, oldest first. */
  get templateTurns(): readonly TemplateTurn[] {
    return this.#templates.turns;
  }

  /** Context window of the loaded model, once loaded. */
  get contextLength(): number | undefined {
    return this.#chat.info?.contextLength;
  }

  readonly #api = new TemplateApi((fn) => this.#chat.withEngine(fn), () => GptChat.templateStore);

  /**
   * Scores a classification template's labels for `fields` (loading the model first if needed).
   * `template` is a template or the id of a built-in or saved one; `options.head` scores with a
   * trained head instead.
   */
  classify(template: FewShotTemplate | string, fields: Readonly<Record<string, string>>, options?: TemplateRunOptions<ClassifyNormalisation>, signal?: AbortSignal): Promise<TemplateScores> {
    return this.#api.classify(template, fields, options, signal);
  }

  /** Scores a multiple-choice template's options for `fields`, as {@link classify}. */
  choose(template: FewShotTemplate | string, fields: Readonly<Record<string, string>>, options?: TemplateRunOptions<ChooseNormalisation>, signal?: AbortSignal): Promise<TemplateScores> {
    return this.#api.choose(template, fields, options, signal);
  }

  /**
   * Trains a task head for `template` on labelled `rows` ({ fields, answer }) on the loaded model,
   * in the worker, reporting progress; `signal` cancels. Resolves with the head (cross-validated
   * accuracy and confusion matrix in `validation`); put it in the template as `head` to use it.
   */
  trainHead(template: FewShotTemplate | string, rows: readonly unknown[], options?: HeadTrainingOptions, onProgress?: (p: TrainHeadProgress) => void, signal?: AbortSignal): Promise<TaskHead> {
    return this.#api.trainHead(template, rows, options, onProgress, signal);
  }

  /** Tokens of `text` as a raw prompt for the loaded model (the template editor's preview). */
  countTokens(text: string): Promise<number> {
    return this.#api.countTokens(text);
  }

  /** The reader scrolled up: stop following new tokens until they scroll back down. */
  #follow = true;

  #modelUrl(): string {
    return this.#local.url ?? canonicalModelUrl(this.model || GptChat.defaultModel);
  }

  /**
   * Loads a model from files on this computer instead of `model`: a Hugging Face folder's files
   * (config.json, tokenizer.json, *.safetensors ...; a FileList from `<input webkitdirectory>`
   * or a folder handle) or one .gguf File. They are checked as a download is and stored on this
   * device under a `local:` id (its `url` in the result; `keep: false` stores nothing). Setting
   * `model` afterwards goes back to it. Rejects with the load's GptError, which the element shows.
   */
  async loadFiles(files: LocalFilesInput, options: { keep?: boolean } = {}): Promise<ModelInfo> {
    this.#local.use(localSpec(await pickedFiles(files), options));
    this.#loadKey = this.#key(); // the load starts here, not again in willUpdate
    await this.#chat.prepare();
    if (this.#chat.status === ChatStatus.error) throw this.#chat.error;
    return this.#chat.info!;
  }

  /**
   * The files of a stored model (its URL or `local:` id), byte for byte as stored: into a folder
   * the user picks (showDirectoryPicker, where present; call it from a click), else downloaded one
   * by one; or into the folder handle given, or only returned (`'none'`). Resolves with the Files.
   */
  exportCachedModel(url: string, to?: ExportTarget): Promise<File[]> {
    return exportModel(url, to);
  }

  /** The controller's state, read-only, for pages and tests. */
  get status(): ChatStatus {
    return this.#chat.status;
  }

  /**
   * The browser's answer when the element asked to keep this site's storage (after a confirmed
   * download; also the `gpt-chat-storage` event): true granted, false not granted, null unsupported,
   * undefined not asked.
   */
  get persistentStorage(): boolean | null | undefined {
    return this.#chat.persistentStorage;
  }

  /** The conversation so far (completed turns). */
  get messages(): readonly ChatTurn[] {
    return this.#chat.turns;
  }

  /** Sends `text` as the user; false when empty or while a reply is being generated. */
  send(text: string): boolean {
    this.#follow = true;
    if (this.template) return this.#templates.send(this.template, text);
    return this.#chat.send(text);
  }

  /** Stops the reply being generated. */
  stop(): void {
    this.#chat.stop();
    this.#templates.stop();
  }

  /** Forgets the conversation (also its stored copy when `persist` is set); {@link undoClear} brings it back. */
  clear(): void {
    this.#chat.clear();
    this.#templates.clear();
  }

  /** Replaces the last reply with a new one. */
  regenerate(): void {
    this.#chat.regenerate();
  }

  /** Starts a download that waits for confirmation (a large model without `autoload`), or resumes a cancelled one. */
  download(): Promise<unknown> {
    return this.#chat.download();
  }

  /** Cancels the model load in progress; what was downloaded is kept and {@link download} resumes. */
  cancelLoad(): Promise<void> {
    return this.#chat.cancelLoad();
  }

  /** Puts back the conversation the last {@link clear} removed, until the next message. */
  undoClear(): void {
    this.#chat.undoClear();
  }

  /** Models stored on this device, with sizes and dates. */
  listCachedModels(): ReturnType<typeof listCachedModels> {
    return listCachedModels();
  }

  /** Deletes one stored model (its URL). The model in use keeps running; the header says it is no longer stored. */
  async deleteCachedModel(url: string): Promise<void> {
    await deleteCachedModel(url);
    if (canonicalModelUrl(url) === this.#modelUrl()) this.#chat.forgetStored();
  }

  /** Deletes every stored model. */
  async clearCache(): Promise<void> {
    await clearCache();
    this.#chat.forgetStored();
  }

  /** True when the model at `url` (default: this element's) is fully stored on this device. */
  isModelCached(url: string = this.#modelUrl()): Promise<boolean> {
    return isModelCached(url);
  }

  /** Model and engine of the last load, to notice when either changes. */
  #loadKey: string | undefined;

  #key(): string {
    return `${this.engine} ${this.quantize ?? ''} ${this.#modelUrl()}`;
  }

  /** The view of show-confidence (chat-confidence.ts), a lazy chunk fetched once it is set. */
  #confidenceView: typeof import('./chat-confidence.ts') | undefined;
  #confidenceLoad: Promise<void> | undefined;

  protected override willUpdate(changed: Map<PropertyKey, unknown>): void {
    this.#confidenceLoad ??= this.showConfidence
      ? import('./chat-confidence.ts').then((m) => {
          this.#confidenceView = m;
          adoptStyles(this.renderRoot as ShadowRoot, [...GptChat.elementStyles, m.confidenceStyles]);
          this.requestUpdate();
        })
      : undefined;
    if (changed.has('model') && this.#loadKey !== undefined) this.#local.forget(); // setting `model` leaves local files
    // A different model, engine or quantization: the old load is dropped, the new one starts.
    const key = this.#key();
    if (this.#loadKey !== undefined && key !== this.#loadKey) void this.#chat.prepare();
    // what the next send begins with changed: read it ahead again (warm-prompt)
    else if (this.#loadKey !== undefined && (changed.has('systemPrompt') || changed.has('warmPrompt'))) this.#chat.promptChanged();
    this.#loadKey = key;
  }

  protected override updated(): void {
    if (this.#follow) {
      const log = this.renderRoot.querySelector('.log');
      if (log) log.scrollTop = log.scrollHeight;
    }
  }

  #onScroll(e: Event): void {
    const log = e.currentTarget as HTMLElement;
    const follow = log.scrollHeight - log.scrollTop - log.clientHeight < 24;
    if (follow !== this.#follow) {
      this.#follow = follow;
      this.requestUpdate(); // shows or hides "Jump to latest"
    }
  }

  #jumpToLatest(): void {
    this.#follow = true;
    this.requestUpdate();
    this.renderRoot.querySelector<HTMLTextAreaElement>('textarea')?.focus();
  }

  /** Escape anywhere in the element: stops a reply, or cancels a model load. */
  #onHostKeydown = (e: KeyboardEvent): void => {
    if (e.key !== 'Escape') return;
    if (this.#chat.status === ChatStatus.generating) this.stop();
    else if (this.#chat.status === ChatStatus.loading) void this.cancelLoad();
    else return;
    e.preventDefault();
  };

  #onKeydown(e: KeyboardEvent): void {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      this.#submit();
    }
  }

  /** The message box grows with its text up to its max-height, where field-sizing is missing. */
  #onInput(e: Event): void {
    if (CSS.supports('field-sizing', 'content')) return;
    const area = e.currentTarget as HTMLTextAreaElement;
    area.style.height = 'auto';
    area.style.height = `${area.scrollHeight + 2}px`;
  }

  #submit(e?: Event): void {
    e?.preventDefault();
    const input = this.renderRoot.querySelector('textarea')!;
    // The text leaves the input only once the chat took it: nothing typed is lost.
    if (this.send(input.value)) {
      input.value = '';
      input.style.height = '';
    }
  }

  override render(): TemplateResult {
    const c = this.#chat;
    const generating = c.status === ChatStatus.generating;
    const send = sendLabel(c);
    return html`
      <div part="base" class="base">
        ${renderHeader(c, this.#modelUrl(), this.showSpeed)}
        <div class="log-box">
          <div part="log" class="log" role="log" aria-label="Conversation" aria-busy=${generating ? 'true' : 'false'} tabindex="0" @scroll=${this.#onScroll} @click=${copyCodeOnClick}>
            ${this.template
              ? renderTemplateLog(this.#templates, this.template)
              : renderChatLog(c, { copy: (text, b) => void copyText(text, b), regenerate: () => this.regenerate(), retry: () => this.#chat.retry(), ...(this.showConfidence && this.#confidenceView ? { confidence: { threshold: thresholdOf(this.confidenceThreshold), view: this.#confidenceView } } : {}) })}
          </div>
          ${!this.#follow && generating ? html`<button type="button" part="jump-button" class="jump" @click=${() => this.#jumpToLatest()}>Jump to latest ↓</button>` : nothing}
        </div>
        <div part="status" class="status" role="status">${renderStatus(c, {
          download: () => void c.download().catch(() => {}),
          cancel: () => void this.cancelLoad(),
          retry: () => this.#chat.retry(),
          undo: () => this.undoClear(),
        })}</div>
        ${this.#local.render()}
        <form part="composer" class="composer" @submit=${this.#submit}>
          <label for="input" class="visually-hidden">Message to the assistant</label>
          <textarea id="input" part="input" rows="1" placeholder=${this.placeholder} @keydown=${this.#onKeydown} @input=${this.#onInput}></textarea>
          ${generating
            ? html`<button type="button" part="stop-button" class="primary" @click=${() => this.stop()}>Stop</button>`
            : html`<button type="submit" part="send-button" class="primary" aria-label=${send.label} title=${send.label}>${send.text}</button>`}
          <button type="button" part="clear-button" @click=${() => this.clear()} ?disabled=${c.turns.length === 0 && this.#templates.turns.length === 0 && !generating} aria-label="Clear conversation">Clear</button>
        </form>
      </div>
    `;
  }
}
