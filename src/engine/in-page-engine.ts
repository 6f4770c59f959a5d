/**
 * The engine that runs our runtime in the current thread: inside the engine worker (its usual
 * home) or on the page itself where module workers are unavailable. It owns one loaded model,
 * shares one load among concurrent callers (two elements asking for the same model get one
 * download and one copy of the weights) and runs one generation at a time, since the model has
 * one KV cache.
 */
import { SingleFlight } from '../cache/single-flight.ts';
import { GptError } from '../errors.ts';
import { canonicalModelUrl } from '../formats/model-location.ts';
import type { ChooseNormalisation, ClassifyNormalisation, FewShotTemplate } from '../templates/schema.ts';
import { choose, classify, templatePrompt, type ScoringModel } from '../templates/score.ts';
import type { FeatureModel } from '../templates/head/features.ts';
import type { TaskHead } from '../templates/head/head-schema.ts';
import { trainHead, type TrainHeadProgress } from '../templates/head/train-head.ts';
import { DownloadGate } from './download-gate.ts';
import type { ChatMessage, Engine, EngineEvent, EngineLoadProgress, EngineStats, HeadTrainingOptions, LocalFilesInput, LocalLoadOptions, ModelInfo, ModelSpec, SamplingOptions, TemplateRunOptions, TemplateScores } from './engine.ts';
import { localSpec, pickedFiles } from './local-files.ts';
import { loadModel as defaultLoadModel, type LoadedModel, type ModelLoader } from './load-model.ts';

function isFeatureModel(m: ScoringModel): m is FeatureModel {
  return typeof (m as Partial<FeatureModel>).hiddenStates === 'function';
}

/** Runs the model in this thread. `loader` is a seam for tests (a fake model). */
export class InPageEngine implements Engine {
  #loaded?: { key: string; spec: ModelSpec; model: LoadedModel; info: ModelInfo };
  /** The model whose GPU device was lost: loaded again (from the cache) by the next request. */
  #lost?: ModelSpec;
  /** The load in flight, shared by every caller that asks for the same model meanwhile. */
  readonly #loads = new SingleFlight<ModelInfo, EngineLoadProgress>();
  #loading?: { readonly key: string; readonly gate: DownloadGate };
  /** Generations wait for the previous one: the model has one KV cache. */
  #turn: Promise<void> = Promise.resolve();
  /** Generations and scorings begun and not finished (EngineStats.activeGenerations). */
  #active = 0;
  /** The warm-up in flight (see warm): any other request aborts it. */
  #warming: AbortController | undefined;
  #disposed = false;

  constructor(private readonly loader: ModelLoader = defaultLoadModel) {}

  async load(spec: ModelSpec, onProgress?: (p: EngineLoadProgress) => void, signal?: AbortSignal): Promise<ModelInfo> {
    if (this.#disposed) throw new GptError('disposed', 'This engine was disposed; create a new one to load a model.');
    signal?.throwIfAborted();
    // web-llm names a prebuilt model by id (or a URL ending in one), not a folder.
    const url = spec.engine === 'webllm' ? spec.url : canonicalModelUrl(spec.url);
    // "The same model": URL, engine and context length (not confirmAbove: the go-ahead joins the load).
    const key = `${spec.engine ?? 'auto'} ${spec.contextLength ?? ''} ${spec.quantize ?? ''} ${url}`;
    if (this.#loaded?.key === key) return this.#loaded.info;
    this.#lost = undefined; // this load replaces the lost model, whichever it is
    if (this.#loading?.key !== key) {
      if (this.#loading) this.#loads.abort(this.#loading.key); // a different model was asked for: the old load is stale
      this.#loading = { key, gate: new DownloadGate() };
    }
    const { gate } = this.#loading;
    gate.join(spec.confirmAbove, onProgress);
    try {
      return await this.#loads.run(key, (abort, emit) => this.#start(key, { ...spec, url }, gate, abort, emit), signal, onProgress);
    } catch (e) {
      throw GptError.from(e);
    }
  }

  /** Loads a model from files on this computer (see Engine.loadFiles). */
  async loadFiles(files: LocalFilesInput, options?: LocalLoadOptions, onProgress?: (p: EngineLoadProgress) => void, signal?: AbortSignal): Promise<ModelInfo> {
    return this.load(localSpec(await pickedFiles(files), options), onProgress, signal);
  }

  async #start(key: string, spec: ModelSpec, gate: DownloadGate, abort: AbortSignal, emit: (p: EngineLoadProgress) => void): Promise<ModelInfo> {
    try {
      // Free the old weights first: two models side by side may not fit in GPU memory.
      await this.#turn;
      this.#loaded?.model.dispose();
      this.#loaded = undefined;
      const started = performance.now();
      const { model, fromCache, quantizedFromCache, notice: cacheNotice, url, timings } = await this.loader(spec, emit, abort, (bytes) => gate.pass(bytes, emit, abort));
      const notice = [model.notice, cacheNotice].filter(Boolean).join(' ');
      const info: ModelInfo = {
        url: url ?? spec.url,
        modelType: model.config.modelType,
        backend: model.backendKind,
        backendReason: model.backendReason ?? 'asked for',
        contextLength: model.contextLength,
        fromCache,
        ...(quantizedFromCache ? { quantizedFromCache } : {}),
        ...(notice ? { notice } : {}),
        ...(model.weightsHash ? { weightsHash: model.weightsHash } : {}),
        loadTimings: { ...timings, total: Math.round((performance.now() - started) * 10) / 10 },
      };
      if (abort.aborted || this.#disposed) {
        model.dispose();
        throw new GptError('aborted', 'The model load was aborted.');
      }
      this.#loaded = { key, spec, model, info };
      return info;
    } finally {
      if (this.#loading?.gate === gate) this.#loading = undefined;
    }
  }

  /**
   * Streams a reply to `messages`. `start` replaces the generation (a template's raw prompt);
   * the turn-taking, abort and error handling are the same.
   */
  async *chat(
    messages: readonly ChatMessage[],
    options: SamplingOptions,
    signal?: AbortSignal,
    start?: () => ReturnType<LoadedModel['generate']>,
  ): AsyncGenerator<EngineEvent> {
    this.#warming?.abort(); // idle work gives way: this waits only for its forward pass in flight
    this.#active++;
    let release: () => void = () => {};
    try {
      await this.#recover(signal);
      const previous = this.#turn;
      this.#turn = new Promise((resolve) => (release = resolve));
      await previous;
      const model = this.#model();
      if (signal?.aborted) {
        yield { type: 'done', finishReason: 'aborted', promptTokens: 0, generatedTokens: 0 };
        return;
      }
      const run = start ? start() : model.generate(messages, { ...options, signal });
      let generatedTokens = 0;
      try {
        for (;;) {
          const step = await run.next();
          if (step.done) {
            const { finishReason, promptTokens, cachedPromptTokens, generatedTokens } = step.value;
            yield { type: 'done', finishReason, promptTokens, generatedTokens, ...(cachedPromptTokens !== undefined ? { cachedPromptTokens } : {}) };
            return;
          }
          if (step.value.id >= 0) generatedTokens++;
          const { id, text, logprob, top } = step.value;
          yield logprob === undefined ? { type: 'token', id, text } : { type: 'token', id, text, logprob, ...(top ? { top } : {}) };
        }
      } catch (e) {
        const error = GptError.from(e);
        if (error.code === 'device-lost') throw this.#dropLost(model, error);
        // An abort inside a forward pass is a normal end, not a failure.
        if (error.code === 'aborted' || signal?.aborted) {
          yield { type: 'done', finishReason: 'aborted', promptTokens: 0, generatedTokens };
          return;
        }
        throw error;
      }
    } finally {
      this.#active--;
      release();
    }
  }

  /**
   * Prefills the known start of the next prompt after `messages` (Engine.warm): only when nothing
   * else runs or waits, in the same turn-taking as generations (the model has one KV cache), and
   * aborted by any request that comes meanwhile. Resolves with the tokens it cached; 0 when it did
   * not run (busy, aborted, a model without it).
   */
  async warm(messages: readonly ChatMessage[], signal?: AbortSignal): Promise<number> {
    this.#warming?.abort();
    if (this.#active > 0 || !this.#loaded?.model.warm) return 0;
    const abort = (this.#warming = new AbortController());
    signal?.addEventListener('abort', () => abort.abort(), { once: true });
    try {
      return await this.#inTurn(() => (abort.signal.aborted ? Promise.resolve(0) : this.#model().warm!(messages, abort.signal)), true);
    } catch (e) {
      if (abort.signal.aborted) return 0;
      throw e;
    } finally {
      if (this.#warming === abort) this.#warming = undefined;
    }
  }

  /** Scores a classification template's labels (src/templates classify) on the loaded model. */
  classify(template: FewShotTemplate, fields: Readonly<Record<string, string>>, options: TemplateRunOptions<ClassifyNormalisation> = {}, signal?: AbortSignal): Promise<TemplateScores> {
    return this.#inTurn(() => classify(this.#scoring(), template, fields, { ...options, ...(signal ? { signal } : {}) }));
  }

  /** Scores a multiple-choice template's options (src/templates choose) on the loaded model. */
  choose(template: FewShotTemplate, fields: Readonly<Record<string, string>>, options: TemplateRunOptions<ChooseNormalisation> = {}, signal?: AbortSignal): Promise<TemplateScores> {
    return this.#inTurn(() => choose(this.#scoring(), template, fields, { ...options, ...(signal ? { signal } : {}) }));
  }

  /** Streams a completion after a generation template's prompt, leaving `maxTokens` of room for it. */
  async *complete(template: FewShotTemplate, fields: Readonly<Record<string, string>>, options: SamplingOptions & { readonly k?: number }, signal?: AbortSignal): AsyncGenerator<EngineEvent> {
    await this.#recover(signal);
    const scoring = this.#scoring();
    const maxTokens = options.maxTokens ?? 64;
    const prompt = templatePrompt(scoring, template, fields, maxTokens, options.k);
    // LanguageModel.generate takes a raw prompt string too (GenerateInput); LoadedModel's type
    // names only messages so the test fakes stay simple, and #scoring() proved this is the runtime's.
    const model = this.#model() as unknown as { generate(input: string, o: SamplingOptions & { signal?: AbortSignal }): ReturnType<LoadedModel['generate']> };
    const { k: _k, ...sampling } = options;
    yield* this.chat([], sampling, signal, () => model.generate(prompt.text, { ...sampling, maxTokens, ...(signal ? { signal } : {}) }));
  }

  /** Trains a task head (src/templates/head trainHead) on the loaded model. */
  trainHead(template: FewShotTemplate, rows: readonly unknown[], options: HeadTrainingOptions = {}, onProgress?: (p: TrainHeadProgress) => void, signal?: AbortSignal): Promise<TaskHead> {
    return this.#inTurn(async () => {
      const scoring = this.#scoring();
      if (!isFeatureModel(scoring)) throw new GptError('bad-argument', 'This model gives no hidden states, so a task head cannot be trained on it. HINT: use our runtime (engine "auto", "webgpu" or "cpu").');
      return trainHead(scoring, template, rows, { ...options, ...(onProgress ? { onProgress } : {}), ...(signal ? { signal } : {}) });
    });
  }

  async countTokens(text: string): Promise<number> {
    await this.#recover();
    return this.#scoring().tokenizer.encodePrompt(text).length;
  }

  /** Runs `fn` when the previous generation or scoring is done: the model has one KV cache. */
  async #inTurn<T>(fn: () => Promise<T>, idle = false): Promise<T> {
    if (!idle) this.#warming?.abort(); // idle work (warm) gives way
    this.#active++;
    let release: () => void = () => {};
    try {
      await this.#recover();
      const previous = this.#turn;
      this.#turn = new Promise((resolve) => (release = resolve));
      await previous;
      const model = this.#loaded?.model;
      try {
        return await fn();
      } catch (e) {
        const error = GptError.from(e);
        throw error.code === 'device-lost' && model ? this.#dropLost(model, error) : error;
      }
    } finally {
      this.#active--;
      release();
    }
  }

  /** The loaded model's token-level side, or a GptError when the model has none. */
  #scoring(): ScoringModel {
    const m = this.#model();
    if (!m.tokenizer || !m.model) throw new GptError('bad-argument', 'This model cannot score few-shot templates (it has no token-level access).');
    const scoring = { tokenizer: m.tokenizer, model: m.model };
    // Hidden states too when the model has them (our runtime): task heads need them.
    const { hiddenStates } = m;
    if (!hiddenStates || m.config.C === undefined) return scoring;
    const features: FeatureModel = { ...scoring, location: m.location ?? '', weightsHash: m.weightsHash ?? '', config: { C: m.config.C }, hiddenStates: (...a) => hiddenStates.apply(m, a) };
    return features;
  }

  async countChatTokens(messages: readonly ChatMessage[]): Promise<number> {
    await this.#recover();
    return this.#model().encode(messages).length;
  }

  /**
   * Frees a model whose GPU device was lost (its buffers with it: they are dead) and remembers
   * its spec, so that the next request loads it again: from the cache, on a new device or, with
   * `auto` and no GPU left, on the CPU with a notice. Returns the error the caller should see.
   */
  #dropLost(model: LoadedModel, error: GptError): GptError {
    if (this.#loaded?.model === model) {
      this.#lost = this.#loaded.spec;
      this.#loaded = undefined;
      model.dispose();
    }
    const reason = /\(([^)]*)\)/.exec(error.message)?.[1] ?? 'no reason given';
    return new GptError('device-lost', `The GPU device was lost (${reason}) and the reply stopped. The model is loaded again from this device on the next request: press Retry.`);
  }

  /** Loads the model again after its device was lost (see #dropLost); nothing otherwise. */
  async #recover(signal?: AbortSignal): Promise<void> {
    if (this.#lost && !this.#loaded) await this.load(this.#lost, undefined, signal);
  }

  /** The loaded model, or a GptError saying to load one first. */
  #model(): LoadedModel {
    if (this.#disposed) throw new GptError('disposed', 'This engine was disposed; create a new one to load a model.');
    if (!this.#loaded) throw new GptError('bad-argument', 'No model is loaded; call load(spec) before chat().');
    return this.#loaded.model;
  }

  /** Debug counters for leak checks (see {@link EngineStats}). */
  stats(): EngineStats {
    const model = this.#loaded?.model.stats?.() ?? { kvPosition: 0, backendBytes: 0 };
    return { activeGenerations: this.#active, ...model };
  }

  dispose(): void {
    this.#disposed = true;
    if (this.#loading) this.#loads.abort(this.#loading.key);
    this.#loaded?.model.dispose();
    this.#loaded = undefined;
  }
}
