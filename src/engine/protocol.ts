/**
 * The messages between the engine client (main thread) and the engine worker: a discriminated
 * union on `type`, requests and replies matched by `id` (comlink's protocol.ts, written out by
 * hand so every payload is typed). Progress and tokens are variants of their own, so a long load
 * or a reply streams as many small messages before its final one. Errors cross as
 * `{ code, message }` and are rebuilt with `GptError.from` on the other side.
 *
 * Client and worker share only this file.
 */
import type { ChooseNormalisation, ClassifyNormalisation, FewShotTemplate } from '../templates/schema.ts';
import type { TaskHead } from '../templates/head/head-schema.ts';
import type { TrainHeadProgress } from '../templates/head/train-head.ts';
import type { ChatMessage, EngineErrorData, EngineStats, GenerationEnd, EngineLoadProgress, HeadTrainingOptions, ModelInfo, ModelSpec, SamplingOptions, TemplateRunOptions, TemplateScores, TokenConfidenceFields } from './engine.ts';

/** A request that runs a few-shot template on the query `fields`, with options of its own kind. */
interface TemplateRequest<T extends string, O> {
  readonly type: T;
  readonly id: number;
  readonly template: FewShotTemplate;
  readonly fields: Readonly<Record<string, string>>;
  readonly options: O;
}

/** Client -> worker. Every request but `abort` gets exactly one final reply with the same id. */
export type WorkerRequest =
  | { readonly type: 'load'; readonly id: number; readonly spec: ModelSpec }
  | { readonly type: 'chat'; readonly id: number; readonly messages: readonly ChatMessage[]; readonly options: SamplingOptions }
  | { readonly type: 'count'; readonly id: number; readonly messages: readonly ChatMessage[] }
  /** Prefills the known start of the next prompt (Engine.warm); answered by `warmed`. */
  | { readonly type: 'warm'; readonly id: number; readonly messages: readonly ChatMessage[] }
  /** A classification template: score its labels after the query; answered by `scored`. */
  | TemplateRequest<'classify', TemplateRunOptions<ClassifyNormalisation>>
  /** A multiple-choice template: score its options; answered by `scored`. */
  | TemplateRequest<'choose', TemplateRunOptions<ChooseNormalisation>>
  /** A generation template's completion: streams `token`s and ends with `done`, like `chat`. */
  | TemplateRequest<'complete', SamplingOptions & { readonly k?: number }>
  /** Trains a task head on labelled rows: streams `head-progress`, ends with `head-trained`. */
  | {
      readonly type: 'train-head';
      readonly id: number;
      readonly template: FewShotTemplate;
      readonly rows: readonly unknown[];
      readonly options: HeadTrainingOptions;
    }
  /** Tokens of a raw prompt; answered by `counted`. */
  | { readonly type: 'count-text'; readonly id: number; readonly text: string }
  /** Counters of the requests, generations and model state the worker holds; answered by `stats`. */
  | { readonly type: 'stats'; readonly id: number }
  /** Aborts the request `id` (a load or a chat); its final reply still comes. */
  | { readonly type: 'abort'; readonly id: number };

/** Worker -> client. `progress` and `token` stream; the others end their request. */
export type WorkerResponse =
  | { readonly type: 'progress'; readonly id: number; readonly progress: EngineLoadProgress }
  | { readonly type: 'loaded'; readonly id: number; readonly info: ModelInfo }
  | ({ readonly type: 'token'; readonly id: number; readonly token: number; readonly text: string } & TokenConfidenceFields)
  | ({ readonly type: 'done'; readonly id: number } & GenerationEnd)
  | { readonly type: 'counted'; readonly id: number; readonly tokens: number }
  | { readonly type: 'warmed'; readonly id: number; readonly tokens: number }
  | { readonly type: 'scored'; readonly id: number; readonly result: TemplateScores }
  | { readonly type: 'head-progress'; readonly id: number; readonly progress: TrainHeadProgress }
  | { readonly type: 'head-trained'; readonly id: number; readonly head: TaskHead }
  | { readonly type: 'stats'; readonly id: number; readonly stats: WorkerStats }
  | { readonly type: 'error'; readonly id: number; readonly error: EngineErrorData }
  /**
   * Sent once, unasked, when the worker's script has run: an 'error' event before it means the
   * worker could not start, after it that the worker crashed.
   */
  | { readonly type: 'started'; readonly id: 0 };

/** What a worker holds (see {@link EngineStats}); all of it returns to its baseline when idle. */
export interface WorkerStats extends EngineStats {
  /** Requests the worker is still running (abort controllers it keeps). */
  readonly runningRequests: number;
}

/** Replies that end a request (the client settles and forgets the id). */
export type FinalResponse = Extract<WorkerResponse, { type: 'loaded' | 'done' | 'counted' | 'warmed' | 'scored' | 'head-trained' | 'stats' | 'error' }>;

/** True for the replies that end their request. */
export function isFinal(message: WorkerResponse): message is FinalResponse {
  return message.type !== 'progress' && message.type !== 'token' && message.type !== 'head-progress' && message.type !== 'started';
}
