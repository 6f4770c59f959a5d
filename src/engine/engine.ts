import type { GptErrorCode } from '../errors.ts';
import type { FinishReason, GenerateOptions } from '../runtime/generation-options.ts';
import type { GenerateResult } from '../runtime/language-model.ts';
import type { TokenAlternative } from '../runtime/token-confidence.ts';
import type { QuantizeOnLoad } from '../runtime/model/quantize-on-load.ts';
import type { ChooseNormalisation, ClassifyNormalisation, FewShotTemplate } from '../templates/schema.ts';
import type { TemplateScores } from '../templates/score.ts';
import type { TaskHead } from '../templates/head/head-schema.ts';
import type { TrainHeadOptions, TrainHeadProgress } from '../templates/head/train-head.ts';
import type { PickedFile } from '../formats/local-files.ts';
import type { LoadTimingsRecord } from '../formats/load-timings.ts';

export type { FinishReason, TemplateScores, QuantizeOnLoad, PickedFile, TokenAlternative };

/**
 * The engine seam: what the <gpt-chat> element needs from whatever runs the model — our runtime
 * in a Web Worker, on the main thread, or web-llm. The element imports only this file and the
 * client; GPU code stays out of the main-thread bundle.
 */

export type EngineKind = 'auto' | 'webgpu' | 'cpu' | 'webllm';

export interface ChatMessage {
  readonly role: 'system' | 'user' | 'assistant';
  readonly content: string;
}

/** Which model to load. `url` is a Hugging Face style folder (trailing slash optional). */
export interface ModelSpec {
  readonly url: string;
  readonly engine?: EngineKind;
  /** Expected SHA-256 (hex) per file name, enforced by the cache. */
  readonly sha256?: Readonly<Record<string, string>>;
  /** Context window in tokens (default: the model's, at most 2048). */
  readonly contextLength?: number;
  /**
   * Ask before downloading more than this many bytes: the load reports `{ phase: 'confirm', total }`
   * and waits until a load of the same model without `confirmAbove` (the user's go-ahead) joins it.
   * Absent: download whatever the size.
   */
  readonly confirmAbove?: number;
  /** Quantize the model's float matrices as they load (the runtime's `quantize` load option). */
  readonly quantize?: QuantizeOnLoad;
  /**
   * Files from this computer instead of a download (a model folder's files or one .gguf; see
   * {@link Engine.loadFiles}): `url` is then only a name for this load, and the model gets its
   * `local:` id in {@link ModelInfo.url}.
   */
  readonly files?: readonly PickedFile[];
  /** With `files`: store the model in the cache under its `local:` id (default true). */
  readonly keep?: boolean;
}

/** What {@link Engine.loadFiles} takes: the Files of a file input or a drop, or a folder handle (File System Access API). */
export type LocalFilesInput = readonly File[] | FileList | readonly PickedFile[] | FileSystemDirectoryHandle;

/** Options of {@link Engine.loadFiles}: a load's, without the URL and the files. */
export type LocalLoadOptions = Omit<ModelSpec, 'url' | 'files' | 'confirmAbove'>;

/**
 * Progress of a model load: download (network), read back from this device (cache), weights
 * prepared for the backend, or `confirm`: the download of `total` bytes waits for the go-ahead
 * (see {@link ModelSpec.confirmAbove}), then `prepare`: GPU kernels compiled ahead of the first token
 * (loaded / total count them).
 */
export interface EngineLoadProgress {
  readonly phase: 'download' | 'cache' | 'weights' | 'confirm' | 'prepare';
  readonly loaded: number;
  readonly total: number;
  /** Bytes per second, when downloading. */
  readonly rate?: number;
  /** Seconds left, when downloading. */
  readonly eta?: number;
  readonly file?: string;
}

export interface ModelInfo {
  /** The model's URL, or for files from this computer its `local:` id (load it again by that id, from the cache). */
  readonly url: string;
  readonly modelType: string;
  readonly backend: 'webgpu' | 'cpu' | 'webllm';
  /**
   * Why this backend runs, in a few words: "asked for", "no WebGPU here", "WebGPU here runs in
   * software (SwiftShader ...), slower than the CPU path", "faster on this device (...)".
   */
  readonly backendReason?: string;
  readonly contextLength: number;
  /** True when the weights came from IndexedDB without touching the network. */
  readonly fromCache: boolean;
  /**
   * True when the model was loaded with `quantize` and its weights were read as an earlier load
   * quantized them (kept in the cache beside the model): a quarter to an eighth of the bytes, and
   * no quantizing.
   */
  readonly quantizedFromCache?: boolean;
  /** Something the user should know (e.g. "WebGPU is not available; running on the CPU"). */
  readonly notice?: string;
  /** The weights fingerprint (our runtime): a template's task head applies when it matches. */
  readonly weightsHash?: string;
  /**
   * Where the load's time went, in ms per phase (workerStart, manifest, chunkReads, hashing,
   * readWait, parse, backend, weights, upload, prepare, total; see README "Where a load's time
   * goes"). Phases that overlap or did not run are as described there.
   */
  readonly loadTimings?: LoadTimingsRecord;
}

/** How a reply is sampled: the runtime's options minus what cannot cross a worker (the signal). */
export type SamplingOptions = Omit<GenerateOptions, 'signal' | 'eosTokenIds'>;

/**
 * How a generation ended: why, and how many tokens the prompt and the reply took;
 * `cachedPromptTokens` (our runtime) is how many of the prompt's tokens the KV cache already held
 * (the previous turns, or a {@link Engine.warm} while the visitor typed): the rest were prefilled.
 */
export type GenerationEnd = Pick<GenerateResult, 'finishReason' | 'promptTokens' | 'generatedTokens'> & { readonly cachedPromptTokens?: number };

/**
 * How sure the model was of a token, when the sampling options ask for it (`logprobs`): the
 * natural log of its probability under the model's distribution (softmax of the logits, before
 * temperature and the sampling filters) and the most likely tokens at that step, best first.
 */
export interface TokenConfidenceFields {
  readonly logprob?: number;
  readonly top?: readonly TokenAlternative[];
}

export type EngineEvent =
  | ({ readonly type: 'token'; readonly id: number; readonly text: string } & TokenConfidenceFields)
  | ({ readonly type: 'done' } & GenerationEnd);

/**
 * Debug counters of an engine, for leak checks (100 send/stop cycles must leave them where they
 * were): none of them grows with the number of requests served.
 */
export interface EngineStats {
  /** Generations and scorings started and not yet finished (running or waiting their turn). */
  readonly activeGenerations: number;
  /** Tokens in the loaded model's KV cache (0 without a model); never past its context length. */
  readonly kvPosition: number;
  /** Bytes the loaded model's backend holds (weights, activations, KV cache; 0 without a model). */
  readonly backendBytes: number;
}

/** An error as it crosses the worker: rebuilt into a GptError on the other side. */
export interface EngineErrorData {
  readonly code: GptErrorCode;
  readonly message: string;
}

/** Options of {@link Engine.classify} and {@link Engine.choose} (see src/templates/score.ts). */
export interface TemplateRunOptions<N extends string = ClassifyNormalisation | ChooseNormalisation> {
  /** How scores become probabilities (default 'summed'). */
  readonly normalisation?: N;
  /** Use at most the last k examples (default all; 0 is zero-shot). */
  readonly k?: number;
  /** Score with this trained head instead (see src/templates/head); `normalisation` and `k` do not apply. */
  readonly head?: TaskHead;
}

/** Options of {@link Engine.trainHead}: trainHead's, minus what cannot cross a worker. */
export type HeadTrainingOptions = Omit<TrainHeadOptions, 'signal' | 'onProgress' | 'now' | 'pause'>;

export interface Engine {
  load(spec: ModelSpec, onProgress?: (p: EngineLoadProgress) => void, signal?: AbortSignal): Promise<ModelInfo>;
  /**
   * Loads a model from files on this computer: a Hugging Face folder (config.json, tokenizer.json,
   * *.safetensors ...) or one .gguf file, checked as a download is, and stored in the cache under a
   * `local:` id (unless `keep` is false). Optional: web-llm cannot.
   */
  loadFiles?(files: LocalFilesInput, options?: LocalLoadOptions, onProgress?: (p: EngineLoadProgress) => void, signal?: AbortSignal): Promise<ModelInfo>;
  /** Streams a reply to `messages` (the last one is the user's). */
  chat(messages: readonly ChatMessage[], options: SamplingOptions, signal?: AbortSignal): AsyncIterable<EngineEvent>;
  /**
   * Prefills, while the visitor types, the prompt that `messages` (the conversation so far) plus
   * any next user message begins with, so that message's chat prefills only its new turn. Resolves
   * with the tokens now cached. Idle work: a chat arriving meanwhile aborts it and waits only for
   * the forward pass in flight; it never changes a reply. Optional: web-llm has none.
   */
  warm?(messages: readonly ChatMessage[], signal?: AbortSignal): Promise<number>;
  /** Tokens `messages` take once rendered with the chat template (for trimming old turns). */
  countChatTokens(messages: readonly ChatMessage[]): Promise<number>;
  /**
   * Scores every label of a classification template after the query `fields` (few-shot
   * templates, src/templates). Optional: engines without token-level scoring (web-llm) leave it out.
   */
  classify?(template: FewShotTemplate, fields: Readonly<Record<string, string>>, options?: TemplateRunOptions<ClassifyNormalisation>, signal?: AbortSignal): Promise<TemplateScores>;
  /** Scores every option of a multiple-choice template's query. Optional, as {@link classify}. */
  choose?(template: FewShotTemplate, fields: Readonly<Record<string, string>>, options?: TemplateRunOptions<ChooseNormalisation>, signal?: AbortSignal): Promise<TemplateScores>;
  /** Streams a completion of a generation template's prompt for `fields`. Optional, as {@link classify}. */
  complete?(template: FewShotTemplate, fields: Readonly<Record<string, string>>, options: SamplingOptions & { readonly k?: number }, signal?: AbortSignal): AsyncIterable<EngineEvent>;
  /**
   * Trains a task head for `template` on labelled `rows` ({ fields, answer }) on the loaded model
   * (src/templates/head). Optional, as {@link classify}.
   */
  trainHead?(template: FewShotTemplate, rows: readonly unknown[], options?: HeadTrainingOptions, onProgress?: (p: TrainHeadProgress) => void, signal?: AbortSignal): Promise<TaskHead>;
  /** Tokens of `text` as a raw prompt (the template editor's preview). Optional, as {@link classify}. */
  countTokens?(text: string): Promise<number>;
  dispose(): void;
}
