/**
 * The async state of one <gpt-chat>: the engine client, the model load, the conversation and the
 * reply being generated. Written like @lit/task: a status constant, an AbortSignal for every
 * async step, and results of a stale step (the model changed, the chat was cleared) dropped.
 * The element only renders from this state and forwards user actions to it.
 */
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { requestPersistentStorage } from '../engine/cache-admin.ts';
import type { Engine, ModelInfo } from '../engine/engine.ts';
import { createEngine } from '../engine/engine-choice.ts';
import { GptError } from '../errors.ts';
import { idbConversationStore } from './conversation-store.ts';
import { ChatStatus, LARGE_DOWNLOAD_BYTES, type ChatDeps, type ChatSettings } from './chat-state.ts';
import { StoredConversation } from './stored-conversation.ts';
import { emit, type ChatTurn } from './events.ts';
import { fitToContext, warmPrompt } from './context-window.ts';
import { nextStage, type LoadStage } from './load-progress.ts';
import { ReplyConfidence, TOP_ALTERNATIVES } from './reply-tokens.ts';

export { ChatStatus, LARGE_DOWNLOAD_BYTES, type ChatDeps, type ChatSettings } from './chat-state.ts';

type Host = ReactiveControllerHost & HTMLElement;

export class ChatController implements ReactiveController {
  status: ChatStatus = ChatStatus.idle;
  /** The conversation as shown (completed turns). */
  turns: ChatTurn[] = [];
  /** The reply being generated, while `status` is generating. */
  reply: string | undefined;
  info: ModelInfo | undefined;
  /** The load's progress as one bar over all its phases (load-progress.ts). */
  progress: LoadStage | undefined;
  /** Bytes of a download waiting for confirmation: what is left to fetch (null: unknown). */
  pendingBytes: number | null | undefined;
  /** Bytes of that model already on this device (a cancelled or interrupted download). */
  storedBytes = 0;
  /** The user cancelled the load; `confirm` then offers to resume it. */
  cancelled = false;
  /** Tokens of the prompt of the reply being generated (its system prompt and kept turns). */
  promptTokens: number | undefined;
  /** Tokens per second of the reply being generated, or of the last one. */
  tokensPerSecond: number | undefined;
  /** True from a send until its reply ends: the last user turn is being answered. */
  answering = false;
  /** The turns a clear() removed, until the next message: undo() puts them back. */
  cleared: ChatTurn[] | undefined;
  /** False once the loaded model was deleted from this device (it still runs from memory). */
  stored = true;
  /** The last error, shown until the next action. */
  error: GptError | undefined;
  /** A small note for the user (older turns dropped, generation stopped). */
  notice: string | undefined;
  /**
   * The browser's answer when persistent storage was asked for (after a confirmed download):
   * true when the cache is kept under storage pressure, false when it may be evicted, null when
   * the browser cannot say; undefined until asked.
   */
  persistentStorage: boolean | null | undefined;
  /** The tokens and probabilities of replies written with `showConfidence`. */
  readonly confidence = new ReplyConfidence();

  #engine: Engine | undefined;
  #engineKey = '';
  /** Bumped by every new load and every clear: results of older steps are dropped. */
  #loadId = 0;
  #chatGen = 0;
  #loadAbort: AbortController | undefined;
  /** Bytes of the whole model, from the download's progress (what is left after a cancel). */
  #downloadTotal: number | undefined;
  // The load in flight may ask before downloading: download() joins it with the go-ahead.
  #asking = false;
  #chatAbort: AbortController | undefined;
  #warmAbort: AbortController | undefined;
  /** Turns the last prompt left out to fit the context (fitToContext's `from`); 0 again when turns are cleared or restored. */
  #contextStart = 0;
  /**
   * True from a send (or retry, regenerate) until its reply ends: set before anything is awaited,
   * so ten send() calls in one tick are one request and nine refusals, never one request with ten
   * user messages.
   */
  #loaded: Promise<ModelInfo> | undefined;
  #restored: Promise<void> | undefined;
  readonly #stored: StoredConversation;
  #disposeTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly host: Host,
    private readonly settings: () => ChatSettings,
    private readonly deps: ChatDeps = {
      createEngine,
      store: idbConversationStore(),
      isSmallModel: () => false,
    },
  ) {
    this.#stored = new StoredConversation(deps.store, () => this.settings().persist, (notice) => this.#set({ notice }));
    host.addController(this);
  }

  hostConnected(): void {
    clearTimeout(this.#disposeTimer);
    this.#restored ??= this.#restore();
    if (this.status === ChatStatus.idle) void this.prepare();
  }

  hostDisconnected(): void {
    // Moving an element in the DOM disconnects and reconnects it at once; keep the engine then.
    this.#disposeTimer = setTimeout(() => this.#teardown(), 1000);
  }

  #teardown(): void {
    this.#loadAbort?.abort();
    this.#loadAbort = undefined;
    this.#chatAbort?.abort();
    this.#engine?.dispose();
    this.#engine = undefined;
    this.#engineKey = '';
    this.#loaded = undefined;
    this.#set({ status: ChatStatus.idle, info: undefined, progress: undefined });
  }

  #set(
    patch: Partial<
      Pick<ChatController, 'status' | 'reply' | 'info' | 'progress' | 'pendingBytes' | 'storedBytes' | 'cancelled' | 'error' | 'notice' | 'promptTokens' | 'tokensPerSecond' | 'answering' | 'cleared' | 'stored'>
    >,
  ): void {
    Object.assign(this, patch);
    this.host.requestUpdate();
  }

  // The stored conversation first, then any turn the user added while the store was opening.
  async #restore(): Promise<void> {
    const turns = await this.#stored.load();
    if (!turns.length) return;
    this.turns = [...turns, ...this.turns];
    this.#contextStart = 0;
    this.host.requestUpdate();
    this.#warm();
  }

  /**
   * While idle with a model (after the load, a reply, a clear or a restore), prefills the prompt
   * the next send begins with, so the send reads only its new turn (warm-prompt).
   */
  #warm(): void {
    this.#warmAbort?.abort();
    const s = this.settings();
    if (!s.warmPrompt || this.status !== ChatStatus.ready || this.answering || !this.#engine || !this.info) return;
    const turns = this.turns;
    warmPrompt(this.#engine, turns, this.info.contextLength, s, this.#contextStart, (this.#warmAbort = new AbortController()).signal, (start) => {
      if (this.turns === turns) this.#contextStart = start; // the next send starts its prompt there too
    });
  }

  /** The system prompt or warm-prompt changed: the next send begins differently, so read that ahead instead. */
  promptChanged(): void {
    this.#warm();
  }

  /** Adds `turn` to the conversation and to its stored copy. */
  #add(turn: ChatTurn): void {
    this.turns = [...this.turns, turn];
    void this.#stored.save((store, key) => store.append(key, turn));
  }

  /** The engine for the current settings; a new one when the engine kind or worker URL changed. */
  #engineFor(s: ChatSettings): Engine {
    const key = `${s.engine} ${s.workerUrl ?? ''}`;
    if (!this.#engine || this.#engineKey !== key) {
      this.#engine?.dispose();
      this.#engine = this.deps.createEngine(s.workerUrl ? { workerUrl: s.workerUrl } : {});
      this.#engineKey = key;
    }
    return this.#engine;
  }

  /**
   * Loads the model of the current settings; a large download (not `autoload`) waits with status
   * `confirm` for {@link download}. Called on connect and when `model` or `engine` change.
   */
  async prepare(): Promise<void> {
    this.#loadAbort?.abort();
    this.#loadAbort = new AbortController();
    this.#loaded = undefined;
    const s = this.settings();
    this.#downloadTotal = undefined;
    this.#set({ status: ChatStatus.loading, error: undefined, progress: undefined, info: undefined, pendingBytes: undefined, storedBytes: 0, cancelled: false, stored: true });
    const ask = !s.autoload && !s.local && !this.deps.isSmallModel(s.model); // files from this computer download nothing
    await this.#load(ask ? LARGE_DOWNLOAD_BYTES : undefined).catch(() => {}); // the error is in this.error and on screen
  }

  /** Bytes of `url` already on this device (0 when unknown). */
  async #storedBytes(url: string): Promise<number> {
    return (await this.deps.storedModelBytes?.(url).catch(() => 0)) ?? 0;
  }

  /**
   * Cancels the load in progress (download, reading or preparing the weights). What was
   * downloaded stays on this device; the status becomes `confirm` with what is left, and
   * {@link download} (or sending a message) resumes.
   */
  async cancelLoad(): Promise<void> {
    if (this.status !== ChatStatus.loading) return;
    const id = ++this.#loadId; // the load's late progress and result are dropped
    this.#loadAbort?.abort();
    this.#loadAbort = undefined;
    this.#loaded = undefined;
    this.#asking = false;
    const downloading = this.progress?.phase === 'download' && this.#downloadTotal !== undefined;
    this.#set({ status: ChatStatus.confirm, cancelled: true, progress: undefined, pendingBytes: downloading ? null : 0, storedBytes: 0 });
    if (!downloading) return;
    const storedBytes = await this.#storedBytes(this.settings().model);
    if (id === this.#loadId) this.#set({ storedBytes, pendingBytes: Math.max(0, this.#downloadTotal! - storedBytes) });
  }

  /** Loads the model now (the user's go-ahead for a large download). Resolves with its info. */
  download(): Promise<ModelInfo> {
    if (this.#loaded && !this.#asking) return this.#loaded;
    if (this.status === ChatStatus.confirm) {
      // The user said yes to a large download: the moment to ask that it be kept. From the page,
      // since workers cannot ask (see requestPersistentStorage).
      void (this.deps.requestPersistence ?? requestPersistentStorage)().then((answer) => {
        this.persistentStorage = answer;
        this.host.requestUpdate();
        emit(this.host, 'gpt-chat-storage', { persisted: answer });
      });
    }
    return this.#load(undefined);
  }

  // One load; with `confirmAbove` a large download waits for a load without it (ARCHITECTURE.md,
  // "One load path"). Only the latest load speaks: older ones' questions and results are dropped.
  #load(confirmAbove: number | undefined): Promise<ModelInfo> {
    const id = ++this.#loadId;
    this.#asking = confirmAbove !== undefined;
    const s = this.settings();
    const abort = (this.#loadAbort ??= new AbortController());
    this.#set({ status: ChatStatus.loading, error: undefined, pendingBytes: undefined, cancelled: false, progress: undefined });
    const engine = this.#engineFor(s);
    const loaded = engine.load(
      { url: s.model, engine: s.engine, ...s.local, ...(confirmAbove !== undefined ? { confirmAbove } : {}), ...(s.quantize ? { quantize: s.quantize } : {}) },
      (p) => {
        if (id !== this.#loadId) return;
        const { phase } = p;
        if (phase === 'confirm') {
          // p.total is what is left to fetch; say how much is already here when part of it is
          this.#set({ status: ChatStatus.confirm, pendingBytes: p.total, progress: undefined });
          void this.#storedBytes(s.model).then((storedBytes) => id === this.#loadId && this.#set({ storedBytes }));
          return;
        }
        if (phase === 'download') this.#downloadTotal = p.total;
        this.#set({ progress: nextStage(this.progress, p) });
        emit(this.host, 'gpt-chat-load-progress', { ...p, phase });
      },
      abort.signal,
    );
    this.#loaded = loaded;
    loaded.then(
      (info) => {
        if (id !== this.#loadId) return;
        this.#asking = false;
        this.#set({ status: ChatStatus.ready, info, progress: undefined, pendingBytes: undefined });
        emit(this.host, 'gpt-chat-ready', info);
        this.#warm();
      },
      (e) => {
        if (id !== this.#loadId) return;
        this.#loaded = undefined;
        this.#fail(this.deps.explainLoadError?.(GptError.from(e), s.model) ?? e, ChatStatus.error);
      },
    );
    return loaded;
  }

  #fail(e: unknown, status: ChatStatus): void {
    const error = GptError.from(e);
    this.#set({ status, error, progress: undefined });
    emit(this.host, 'gpt-chat-error', error.toJSON());
  }

  /**
   * Adds a user turn and generates the reply. Returns false (and keeps nothing) for empty text or
   * while a reply is pending or being generated; then `notice` says to wait or stop it.
   */
  send(text: string): boolean {
    const content = text.trim();
    if (!content) return false;
    if (this.answering) {
      this.#set({ notice: 'A reply is still being written: wait for it, or stop it, before sending another message.' });
      return false;
    }
    this.#add({ role: 'user', content });
    this.#set({ cleared: undefined });
    void this.#respond();
    return true;
  }

  /** Generates the reply to the last user turn (after a failure, a stop, or for regenerate). */
  async #respond(): Promise<void> {
    const gen = ++this.#chatGen;
    // Made before anything is awaited, so Stop pressed while the model loads stops this reply too.
    const abort = (this.#chatAbort = new AbortController());
    this.#warmAbort?.abort();
    this.#set({ error: undefined, notice: undefined, answering: true });
    try {
      await this.#answer(gen, abort);
    } finally {
      if (this.#chatAbort === abort) this.#chatAbort = undefined;
      if (gen === this.#chatGen) this.#set({ answering: false });
    }
  }

  async #answer(gen: number, abort: AbortController): Promise<void> {
    let info: ModelInfo;
    try {
      info = await this.download(); // sending is consent to a pending download
    } catch {
      return; // the load error is shown; the user's turn stays for retry()
    }
    if (gen !== this.#chatGen) return;
    const s = this.settings();
    const engine = this.#engineFor(s);
    this.#set({ status: ChatStatus.generating, reply: '', promptTokens: undefined, tokensPerSecond: undefined });
    let reply = '';
    this.confidence.start();
    let firstTokenAt: number | undefined;
    let tokens = 0;
    try {
      const { messages, maxTokens, dropped, promptTokens } = await fitToContext(engine, this.turns, info.contextLength, s, this.#contextStart);
      this.#contextStart = dropped;
      this.#set({ promptTokens });
      if (dropped) this.#set({ notice: `${dropped} older message${dropped > 1 ? 's were' : ' was'} left out to fit the model's ${info.contextLength}-token context.` });
      const seed = (Math.random() * 2 ** 31) | 0; // regenerate must not repeat the same sample
      const logprobs = s.showConfidence ? { logprobs: TOP_ALTERNATIVES } : {}; // computed only when asked for
      for await (const ev of engine.chat(messages, { maxTokens, temperature: s.temperature, topP: s.topP, seed, ...logprobs }, abort.signal)) {
        if (gen !== this.#chatGen) return; // cleared or superseded: drop the rest
        if (ev.type === 'token') {
          reply += ev.text;
          // Speed counts from the first token: the wait before it is reading the prompt.
          const now = performance.now();
          firstTokenAt ??= now;
          tokens++;
          this.#set({ reply, ...(tokens > 1 ? { tokensPerSecond: ((tokens - 1) * 1000) / Math.max(1, now - firstTokenAt) } : {}) });
          this.confidence.push(ev);
          emit(this.host, 'gpt-chat-token', { id: ev.id, text: ev.text, ...(ev.logprob !== undefined ? { logprob: ev.logprob, top: ev.top ?? [] } : {}) });
        } else {
          const turn: ChatTurn = { role: 'assistant', content: reply };
          this.confidence.keep(turn);
          this.#add(turn);
          // answering ends before the event: a listener may send the next message at once
          this.#set({ status: ChatStatus.ready, reply: undefined, answering: false, ...(ev.finishReason === 'aborted' ? { notice: 'Stopped.' } : {}) });
          const { finishReason, promptTokens, cachedPromptTokens } = ev;
          emit(this.host, 'gpt-chat-message', { role: 'assistant', content: reply, finishReason, promptTokens, ...(cachedPromptTokens !== undefined ? { cachedPromptTokens } : {}) });
          this.#warm(); // unless a listener sent the next message already
        }
      }
    } catch (e) {
      if (gen !== this.#chatGen) return;
      // Keep what was generated: the reader may want it, and Regenerate replaces it anyway.
      if (reply) {
        const turn: ChatTurn = { role: 'assistant', content: reply };
        this.confidence.keep(turn);
        this.#add(turn);
      }
      const error = GptError.from(e);
      // A lost device or a crashed worker needs a fresh load; anything else leaves the model usable.
      if (error.code === 'device-lost' || error.code === 'disposed' || error.code === 'worker-crashed') {
        this.#loaded = undefined;
        this.#fail(error, ChatStatus.error);
      } else this.#fail(error, ChatStatus.ready);
      this.#set({ reply: undefined });
    }
  }

  /**
/**
   * Runs `fn` with the engine once the model is loaded (asking is consent to a pending download):
   * the way template mode and the template editor reach the engine this controller owns.
   */
  async withEngine<T>(fn: (engine: Engine, info: ModelInfo) => Promise<T>): Promise<T> {
    const info = await this.download();
    return fn(this.#engineFor(this.settings()), info);
  }

  /** Stops the reply being generated; what was generated so far is kept. */
  stop(): void {
    this.#chatAbort?.abort();
  }

  /** Replaces the last reply with a new one. */
  regenerate(): void {
    if (this.answering) return;
    const last = this.turns[this.turns.length - 1];
    if (!last) return;
    if (last.role === 'assistant') {
      this.turns = this.turns.slice(0, -1);
      void this.#stored.save((store, key) => store.delete(key, last));
    }
    if (this.turns[this.turns.length - 1]?.role !== 'user') return;
    void this.#respond();
  }

  /** Tries again after an error: reloads when the load failed, then answers the last user turn. */
  retry(): void {
    if (this.answering) return;
    const answer = this.turns[this.turns.length - 1]?.role === 'user';
    if (this.status === ChatStatus.error || this.status === ChatStatus.idle) {
      void this.prepare().then(() => {
        if (answer && this.status === ChatStatus.ready) void this.#respond();
      });
    } else if (answer) void this.#respond();
  }

  /** Forgets the conversation (and its stored copy); {@link undo} brings it back until the next message. */
  clear(): void {
    this.#chatGen++;
    this.#chatAbort?.abort();
    const cleared = this.turns;
    this.turns = [];
    this.#contextStart = 0;
    this.#set({
      reply: undefined,
      notice: undefined,
      error: undefined,
      answering: false,
      cleared: cleared.length ? cleared : undefined,
      ...(this.status === ChatStatus.generating ? { status: ChatStatus.ready } : {}),
    });
    void this.#stored.save((store, key) => store.remove(key));
    this.#warm();
  }

  /** Puts back the conversation the last {@link clear} removed (and stores it again). */
  undoClear(): void {
    if (!this.cleared) return;
    const cleared = this.cleared;
    this.turns = [...cleared, ...this.turns];
    this.#contextStart = 0;
    this.#set({ cleared: undefined });
    this.#warm();
    // Each turn goes back under its old record key, so in its old place among other tabs' turns.
    void this.#stored.save(async (store, key) => {
      for (const turn of cleared) await store.append(key, turn);
    });
  }

  /** The loaded model was deleted from this device: it keeps running from memory, but say so. */
  forgetStored(): void {
    if (this.info) this.#set({ info: { ...this.info, fromCache: false }, stored: false });
  }
}
