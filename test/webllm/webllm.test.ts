// The web-llm engine (src/webllm) over a STAND-IN for @mlc-ai/web-llm: a small fake module whose
// MLCEngine has the real method shapes and streams scripted chunks. web-llm's real models need
// WebGPU with shader support and downloads of hundreds of MB, neither of which exist here; only
// the prebuilt id list is read from the real package (the demo's ids must exist in it).
import { describe, expect, it } from 'vitest';
import type { EngineEvent, EngineLoadProgress, ModelSpec } from '../../src/engine/engine.ts';
import { InPageEngine } from '../../src/engine/in-page-engine.ts';
import { modelLoader } from '../../src/engine/load-model.ts';
import { GptError } from '../../src/errors.ts';
import { loadWebLlmModel, progressMapper } from '../../src/webllm/load.ts';
import { resolveWebLlmModel } from '../../src/webllm/model-id.ts';
import type { WebLlmAppConfig, WebLlmChatRequest, WebLlmChunk, WebLlmModule, WebLlmProgressReport } from '../../src/webllm/webllm-api.ts';
import { WebLlmModel } from '../../src/webllm/webllm-model.ts';

const SMOL = 'SmolLM2-135M-Instruct-q0f16-MLC';
const APP_CONFIG: WebLlmAppConfig = {
  model_list: [
    { model: `https://huggingface.co/mlc-ai/${SMOL}`, model_id: SMOL, model_lib: 'https://libs.example/smol.wasm', vram_required_MB: 360, overrides: { context_window_size: 4096 } },
    { model: 'https://huggingface.co/mlc-ai/SmolLM2-135M-Instruct-q0f32-MLC', model_id: 'SmolLM2-135M-Instruct-q0f32-MLC', model_lib: 'https://libs.example/smol32.wasm', vram_required_MB: 700 },
    { model: 'https://huggingface.co/mlc-ai/Qwen2.5-0.5B-Instruct-q4f16_1-MLC', model_id: 'Qwen2.5-0.5B-Instruct-q4f16_1-MLC', model_lib: 'https://libs.example/qwen.wasm', vram_required_MB: 945 },
    { model: 'https://huggingface.co/mlc-ai/snowflake-arctic-embed-s-q0f32-MLC-b4', model_id: 'snowflake-arctic-embed-s-q0f32-MLC-b4', model_lib: 'x', model_type: 1 },
  ],
};

/** What the stand-in engine saw and did. */
interface StandInLog {
  config?: { appConfig?: WebLlmAppConfig };
  reloaded: { modelId: string; chatOpts?: { context_window_size?: number } }[];
  requests: WebLlmChatRequest[];
  interrupts: number;
  unloads: number;
}

interface Script {
  /** Progress reports sent during reload. */
  progress?: WebLlmProgressReport[];
  /** Text pieces streamed per request, one chunk each. */
  reply?: string[];
  finish?: 'stop' | 'length';
  usage?: { prompt_tokens: number; completion_tokens: number } | null;
  /** Milliseconds between chunks. */
  delayMs?: number;
  /** Thrown by reload. */
  reloadError?: Error;
  /** reload waits for this (to test aborting a load). */
  reloadGate?: Promise<void>;
  cached?: boolean;
}

/** A stand-in for `import('@mlc-ai/web-llm')`: no WebGPU, no download, scripted output. */
function standIn(script: Script = {}, log: StandInLog = { reloaded: [], requests: [], interrupts: 0, unloads: 0 }): { module: WebLlmModule; log: StandInLog } {
  class StandInMLCEngine {
    #progress?: (r: WebLlmProgressReport) => void;
    #interrupted = false;
    #reloadAbort?: () => void;
    constructor(config?: { appConfig?: WebLlmAppConfig; initProgressCallback?: (r: WebLlmProgressReport) => void }) {
      log.config = config ?? {};
      this.#progress = config?.initProgressCallback;
    }
    async reload(modelId: string, chatOpts?: { context_window_size?: number }): Promise<void> {
      log.reloaded.push({ modelId, ...(chatOpts ? { chatOpts } : {}) });
      for (const r of script.progress ?? []) this.#progress?.(r);
      if (script.reloadGate) {
        // Like web-llm, unload() aborts a reload in flight.
        await Promise.race([script.reloadGate, new Promise((_, reject) => (this.#reloadAbort = () => reject(new DOMException('Engine.unload() is called.', 'AbortError'))))]);
      }
      if (script.reloadError) throw script.reloadError;
    }
    chat = {
      completions: {
        create: async (request: WebLlmChatRequest): Promise<AsyncIterable<WebLlmChunk>> => {
          log.requests.push(request);
          this.#interrupted = false;
          const self = this;
          return (async function* () {
            const pieces = script.reply ?? [];
            for (const [i, text] of pieces.entries()) {
              await new Promise((r) => setTimeout(r, script.delayMs ?? 0));
              // web-llm checks its interrupt flag between decode steps and ends with 'abort'.
              if (self.#interrupted) {
                yield { choices: [{ delta: {}, finish_reason: 'abort' as const }] };
                break;
              }
              yield { choices: [{ delta: { content: text }, finish_reason: i === pieces.length - 1 ? (script.finish ?? 'stop') : null }] };
            }
            if (script.usage !== null) yield { choices: [], usage: script.usage ?? { prompt_tokens: 11, completion_tokens: pieces.length } };
          })();
        },
      },
    };
    interruptGenerate(): void {
      log.interrupts++;
      this.#interrupted = true;
    }
    async unload(): Promise<void> {
      log.unloads++;
      this.#reloadAbort?.();
    }
  }
  const module: WebLlmModule = {
    prebuiltAppConfig: APP_CONFIG,
    hasModelInCache: async () => script.cached ?? false,
    MLCEngine: StandInMLCEngine,
  };
  return { module, log };
}

const FAKE_GPU = {};
const spec = (url: string, extra: Partial<ModelSpec> = {}): ModelSpec => ({ url, engine: 'webllm', ...extra });

async function load(script: Script = {}, s: ModelSpec = spec(SMOL), signal = new AbortController().signal) {
  const { module, log } = standIn(script);
  const progress: EngineLoadProgress[] = [];
  const { model, fromCache } = await loadWebLlmModel(s, (p) => progress.push(p), signal, async () => module, FAKE_GPU);
  return { model: model as WebLlmModel, fromCache, progress, log };
}

async function drain(gen: ReturnType<WebLlmModel['generate']>) {
  const pieces: string[] = [];
  for (;;) {
    const step = await gen.next();
    if (step.done) return { pieces, result: step.value };
    pieces.push(step.value.text);
  }
}

describe('web-llm model ids', () => {
  it('accepts a bare prebuilt id, a Hugging Face URL and the element-resolved same-origin URL', () => {
    expect(resolveWebLlmModel(SMOL, APP_CONFIG).appConfig.model_list[0]!.model).toBe(`https://huggingface.co/mlc-ai/${SMOL}`);
    expect(resolveWebLlmModel(`https://huggingface.co/mlc-ai/${SMOL}/`, APP_CONFIG).modelId).toBe(SMOL);
    const resolved = resolveWebLlmModel(`https://site.example/demo/${SMOL}/`, APP_CONFIG, 'https://site.example');
    expect(resolved.modelId).toBe(SMOL);
    expect(resolved.appConfig.model_list[0]!.model).toBe(`https://huggingface.co/mlc-ai/${SMOL}`);
  });

  it('runs a URL on another origin as a mirror of the weights with the prebuilt library', () => {
    const r = resolveWebLlmModel(`https://cdn.example/models/${SMOL}`, APP_CONFIG, 'https://site.example');
    expect(r.appConfig.model_list).toEqual([{ ...APP_CONFIG.model_list[0], model: `https://cdn.example/models/${SMOL}` }]);
  });

  it('rejects an unknown id with a GptError that lists valid ids', () => {
    const e = catchError(() => resolveWebLlmModel('Llama-9000B-MLC', APP_CONFIG));
    expect(e.code).toBe('bad-argument');
    expect(e.message).toContain('"Llama-9000B-MLC"');
    expect(e.message).toContain(`"${SMOL}"`);
    expect(e.message).not.toContain('snowflake'); // embedding models are not offered for chat
    expect(e.message).toContain('engine="auto"');
  });

  it('suggests the ids that contain a partial name', () => {
    const e = catchError(() => resolveWebLlmModel('smollm2-135m', APP_CONFIG));
    expect(e.message).toContain('Did you mean');
    expect(e.message).toContain('SmolLM2-135M-Instruct-q0f32-MLC');
    expect(e.message).not.toContain('Qwen');
  });

  it('rejects an embedding model', () => {
    expect(catchError(() => resolveWebLlmModel('snowflake-arctic-embed-s-q0f32-MLC-b4', APP_CONFIG)).code).toBe('unsupported-model');
  });

  it("finds the demo's web-llm ids in the real package's prebuiltAppConfig", async () => {
    const { readFile } = await import('node:fs/promises');
    const html = await readFile(new URL('../../demo/index.html', import.meta.url), 'utf8');
    const ids = [...html.matchAll(/data-engine="webllm"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*data-engine="webllm"/g)].map((m) => m[1] ?? m[2]!);
    expect(ids.length).toBeGreaterThanOrEqual(2);
    const { prebuiltAppConfig } = await import('@mlc-ai/web-llm');
    for (const id of ids) expect(resolveWebLlmModel(id, prebuiltAppConfig).modelId).toBe(id);
  });
});

describe('loading a web-llm model (stand-in MLCEngine)', () => {
  it('reloads the id with the resolved app config and reports the model', async () => {
    const { model, log, fromCache } = await load({ cached: true });
    expect(log.reloaded).toEqual([{ modelId: SMOL }]);
    expect(log.config?.appConfig?.model_list.map((r) => r.model_id)).toEqual([SMOL]);
    expect(model.backendKind).toBe('webllm');
    expect(model.contextLength).toBe(4096); // the record's context_window_size override
    expect(model.config.modelType).toBe(SMOL);
    expect(fromCache).toBe(true);
  });

  it('passes an asked-for context length to web-llm', async () => {
    const { model, log } = await load({}, spec(SMOL, { contextLength: 1024 }));
    expect(log.reloaded[0]!.chatOpts).toEqual({ context_window_size: 1024 });
    expect(model.contextLength).toBe(1024);
  });

  it('maps initProgressCallback reports to byte progress', async () => {
    const { progress } = await load({
      progress: [
        { progress: 0, timeElapsed: 0, text: 'Start to fetch params' },
        { progress: 0.25, timeElapsed: 2, text: 'Fetching param cache[1/4]: 90MB fetched. 25% completed, 2 secs elapsed.' },
        { progress: 1, timeElapsed: 8, text: 'Fetching param cache[4/4]: 360MB fetched. 100% completed, 8 secs elapsed.' },
        { progress: 1, timeElapsed: 9, text: 'Finish loading on WebGPU - swiftshader' },
      ],
    });
    const MB = 2 ** 20;
    expect(progress[0]).toEqual({ phase: 'download', loaded: 0, total: 360 * MB }); // the VRAM estimate until bytes are known
    expect(progress[1]).toMatchObject({ phase: 'download', loaded: 90 * MB, total: 360 * MB, rate: 45 * MB });
    expect(progress[1]!.eta).toBeCloseTo(6);
    expect(progress[2]).toMatchObject({ phase: 'download', loaded: 360 * MB, total: 360 * MB, eta: 0 });
    expect(progress[3]).toEqual({ phase: 'weights', loaded: 360 * MB, total: 360 * MB });
  });

  it("reports web-llm's cache reads as the 'cache' phase and drops byte-less reports without an estimate", () => {
    const map = progressMapper(true, 0);
    expect(map({ progress: 0, timeElapsed: 0, text: 'Start to fetch params' })).toBeUndefined();
    expect(map({ progress: 0.5, timeElapsed: 1, text: 'Loading model from cache[2/4]: 100MB loaded. 50% completed, 1 secs elapsed.' })).toMatchObject({ phase: 'cache', loaded: 100 * 2 ** 20, total: 200 * 2 ** 20 });
  });

  it('refuses without WebGPU before importing web-llm, suggesting engine="auto"', async () => {
    let imported = false;
    const e = await loadWebLlmModel(spec(SMOL), () => {}, new AbortController().signal, async () => ((imported = true), standIn().module), undefined).catch((x) => x);
    expect(e).toBeInstanceOf(GptError);
    expect(e.code).toBe('no-webgpu');
    expect(e.message).toContain('engine="auto"');
    expect(imported).toBe(false);
  });

  it('rejects an unknown model id before creating an engine', async () => {
    const { module, log } = standIn();
    const e = await loadWebLlmModel(spec('https://site.example/Nope-MLC'), () => {}, new AbortController().signal, async () => module, FAKE_GPU).catch((x) => x);
    expect(e.code).toBe('bad-argument');
    expect(e.message).toContain('"Nope-MLC"');
    expect(log.config).toBeUndefined();
  });

  it("turns web-llm's errors into GptErrors with a hint", async () => {
    const f16 = Object.assign(new Error('This model requires WebGPU extension shader-f16'), { name: 'ShaderF16SupportError' });
    const e = await load({ reloadError: f16 }).catch((x) => x);
    expect(e.code).toBe('unsupported-model');
    expect(e.message).toContain('f32');
    const lost = Object.assign(new Error('lost'), { name: 'DeviceLostError' });
    expect((await load({ reloadError: lost }).catch((x) => x)).code).toBe('device-lost');
    expect((await load({ reloadError: new TypeError('Failed to fetch') }).catch((x) => x)).code).toBe('network');
  });

  it('aborting a load unloads the engine and rejects with aborted', async () => {
    const abort = new AbortController();
    const { module, log } = standIn({ reloadGate: new Promise(() => {}) });
    const loading = loadWebLlmModel(spec(SMOL), () => {}, abort.signal, async () => module, FAKE_GPU);
    await new Promise((r) => setTimeout(r, 5));
    abort.abort();
    const e = await loading.catch((x) => x);
    expect(e.code).toBe('aborted');
    expect(log.unloads).toBeGreaterThanOrEqual(1);
  });
});

describe('generating with a web-llm model (stand-in MLCEngine)', () => {
  it('streams the scripted pieces and reports usage as token counts', async () => {
    const { model, log } = await load({ reply: ['Hel', 'lo', '!'], usage: { prompt_tokens: 17, completion_tokens: 3 } });
    const { pieces, result } = await drain(
      model.generate([{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hi' }], { temperature: 0.5, topP: 0.9, topK: 40, maxTokens: 32, seed: 7, stop: ['\n\n'] }),
    );
    expect(pieces).toEqual(['Hel', 'lo', '!']);
    expect(result).toEqual({ finishReason: 'eos', promptTokens: 17, generatedTokens: 3 });
    expect(log.requests[0]).toEqual({
      messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hi' }],
      stream: true,
      stream_options: { include_usage: true },
      temperature: 0.5,
      top_p: 0.9,
      max_tokens: 32,
      seed: 7,
      stop: ['\n\n'],
    });
  });

  it("maps finish_reason 'length' and counts pieces when web-llm sends no usage", async () => {
    const { model } = await load({ reply: ['a', 'b'], finish: 'length', usage: null });
    const { result } = await drain(model.generate([{ role: 'user', content: 'x'.repeat(30) }], {}));
    expect(result.finishReason).toBe('length');
    expect(result.generatedTokens).toBe(2);
    expect(result.promptTokens).toBe(model.encode([{ role: 'user', content: 'x'.repeat(30) }]).length);
  });

  it('abort calls interruptGenerate and ends with aborted', async () => {
    const { model, log } = await load({ reply: ['one', ' two', ' three', ' four', ' five'], delayMs: 5 });
    const abort = new AbortController();
    const gen = model.generate([{ role: 'user', content: 'count' }], { signal: abort.signal });
    const first = await gen.next();
    expect(first.value).toEqual({ id: -1, text: 'one' });
    abort.abort();
    const { pieces, result } = await drain(gen);
    expect(log.interrupts).toBe(1);
    expect(pieces).toEqual([]);
    expect(result.finishReason).toBe('aborted');
  });

  it('a consumer that stops reading interrupts web-llm too', async () => {
    const { model, log } = await load({ reply: ['a', 'b', 'c'], delayMs: 2 });
    const gen = model.generate([{ role: 'user', content: 'go' }], {});
    await gen.next();
    await gen.return({ finishReason: 'aborted', promptTokens: 0, generatedTokens: 0 });
    expect(log.interrupts).toBe(1);
  });

  it('estimates token counts (web-llm exposes no tokenizer), growing with the text', async () => {
    const { model } = await load();
    const short = model.encode([{ role: 'user', content: 'hi' }]).length;
    const long = model.encode([{ role: 'user', content: 'hi '.repeat(100) }]).length;
    expect(short).toBeGreaterThan(0);
    expect(long).toBeGreaterThanOrEqual(100); // over-counts on purpose: ~3 characters a token
  });

  it('dispose calls unload, and generate afterwards is a disposed error', async () => {
    const { model, log } = await load();
    model.dispose();
    model.dispose();
    expect(log.unloads).toBe(1);
    await expect(model.generate([{ role: 'user', content: 'x' }], {}).next()).rejects.toMatchObject({ code: 'disposed' });
  });
});

describe('engine="webllm" through the engine', () => {
  it("load-model.ts routes engine 'webllm' to the web-llm bundle (importer injected)", async () => {
    const { module, log } = standIn({ reply: ['Hi', ' there'] });
    const bundle = { loadWebLlmModel: (s: ModelSpec, p: (x: EngineLoadProgress) => void, sig: AbortSignal) => loadWebLlmModel(s, p, sig, async () => module, FAKE_GPU) };
    const { model } = await modelLoader({ importWebLlm: async () => bundle })(spec(SMOL), () => {}, new AbortController().signal);
    expect(model.backendKind).toBe('webllm');
    expect(log.reloaded).toEqual([{ modelId: SMOL }]);
  });

  it('a missing web-llm bundle is a network error that suggests engine="auto"', async () => {
    const failing = modelLoader({
      importWebLlm: async () => {
        throw new TypeError('Failed to fetch dynamically imported module');
      },
    });
    const e = await failing(spec(SMOL), () => {}, new AbortController().signal).catch((x) => x);
    expect(e.code).toBe('network');
    expect(e.message).toContain('gpt-chat-webllm.js');
    expect(e.message).toContain('engine="auto"');
  });

  it('the in-page engine chats through it: info, tokens, done, dispose', async () => {
    const { module, log } = standIn({ reply: ['Hi', ' there'], usage: { prompt_tokens: 9, completion_tokens: 2 } });
    const engine = new InPageEngine(modelLoader({ importWebLlm: async () => ({ loadWebLlmModel: (s2, p2, sig2) => loadWebLlmModel(s2, p2, sig2, async () => module, FAKE_GPU) }) }));
    const info = await engine.load(spec(SMOL));
    expect(info).toMatchObject({ backend: 'webllm', modelType: SMOL, contextLength: 4096 });
    const events: EngineEvent[] = [];
    for await (const e of engine.chat([{ role: 'user', content: 'hello' }], { maxTokens: 8 })) events.push(e);
    expect(events).toEqual([
      { type: 'token', id: -1, text: 'Hi' },
      { type: 'token', id: -1, text: ' there' },
      { type: 'done', finishReason: 'eos', promptTokens: 9, generatedTokens: 2 },
    ]);
    expect(await engine.countChatTokens([{ role: 'user', content: 'hello' }])).toBeGreaterThan(0);
    engine.dispose();
    expect(log.unloads).toBe(1);
  });
});

function catchError(fn: () => unknown): GptError {
  try {
    fn();
  } catch (e) {
    if (e instanceof GptError) return e;
    throw e;
  }
  throw new Error('expected a GptError');
}
