/**
 * The part of @mlc-ai/web-llm that gpt-chat uses, written out as structural types. The real
 * package satisfies them (load.ts's default importer is type-checked against them), and a test's
 * stand-in can implement them in a few lines without WebGPU or a download.
 */

/** One entry of web-llm's `prebuiltAppConfig.model_list` (the fields we read). */
export interface WebLlmModelRecord {
  /** Where the weights live (a Hugging Face folder of MLC weights). */
  readonly model: string;
  readonly model_id: string;
  /** The compiled WebGPU library (.wasm) that runs this model. */
  readonly model_lib: string;
  readonly vram_required_MB?: number;
  readonly required_features?: string[];
  readonly overrides?: { readonly context_window_size?: number };
  /** web-llm's ModelType: 0 LLM, 1 embedding, 2 VLM. */
  readonly model_type?: number;
}

export interface WebLlmAppConfig {
  readonly model_list: WebLlmModelRecord[];
}

/** `initProgressCallback`'s report: `progress` in [0, 1] and a human readable `text`. */
export interface WebLlmProgressReport {
  readonly progress: number;
  readonly timeElapsed: number;
  readonly text: string;
}

/** One streamed chunk of `chat.completions.create({ stream: true })`. */
export interface WebLlmChunk {
  readonly choices: readonly {
    readonly delta: { readonly content?: string | null };
    readonly finish_reason: 'stop' | 'length' | 'tool_calls' | 'abort' | null;
  }[];
  /** Only on the last chunk, and only with `stream_options: { include_usage: true }`. */
  readonly usage?: { readonly prompt_tokens: number; readonly completion_tokens: number } | null;
}

/** The request we send: the OpenAI chat-completions subset web-llm implements. */
export interface WebLlmChatRequest {
  messages: { role: 'system' | 'user' | 'assistant'; content: string }[];
  stream: true;
  stream_options: { include_usage: true };
  temperature?: number;
  top_p?: number;
  max_tokens?: number;
  seed?: number;
  stop?: string[];
  repetition_penalty?: number;
}

/** What we call on web-llm's MLCEngine. */
export interface WebLlmEngine {
  reload(modelId: string, chatOpts?: { context_window_size?: number }): Promise<void>;
  readonly chat: { readonly completions: { create(request: WebLlmChatRequest): Promise<AsyncIterable<WebLlmChunk>> } };
  interruptGenerate(): void | Promise<void>;
  unload(): Promise<void>;
}

/** The module `import('@mlc-ai/web-llm')` resolves to, as far as we use it. */
export interface WebLlmModule {
  readonly prebuiltAppConfig: WebLlmAppConfig;
  /** True when the model's weights are in web-llm's cache already. */
  readonly hasModelInCache?: (modelId: string, appConfig?: WebLlmAppConfig) => Promise<boolean>;
  readonly MLCEngine: new (config?: { appConfig?: WebLlmAppConfig; initProgressCallback?: (report: WebLlmProgressReport) => void }) => WebLlmEngine;
}
