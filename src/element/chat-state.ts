/**
 * The vocabulary of a <gpt-chat>'s state: its status, the settings its attributes give, and what
 * ChatController depends on (tests pass their own).
 */
import type { Engine, EngineKind, ModelSpec, QuantizeOnLoad } from '../engine/engine.ts';
import type { EngineChoice } from '../engine/engine-choice.ts';
import type { GptError } from '../errors.ts';
import type { ConversationStore } from './conversation-store.ts';

/** Where the element is in its life; `error` means the model could not be loaded. */
export const ChatStatus = {
  /** Nothing loaded yet. */
  idle: 'idle',
  /**
   * A large download waits for the user's go-ahead (`pendingBytes` left to fetch, `storedBytes`
   * already on this device); also where a cancelled load waits (`cancelled`).
   */
  confirm: 'confirm',
  loading: 'loading',
  ready: 'ready',
  generating: 'generating',
  /** The load failed (`error` says why); retry() tries again. */
  error: 'error',
} as const;
export type ChatStatus = (typeof ChatStatus)[keyof typeof ChatStatus];

/** What the element's attributes say, read at the moment of each action. */
export interface ChatSettings {
  readonly model: string;
  readonly engine: EngineKind;
  readonly quantize: QuantizeOnLoad | undefined;
  readonly systemPrompt: string;
  readonly temperature: number;
  readonly topP: number;
  readonly maxTokens: number;
  readonly persist: string | undefined;
  readonly autoload: boolean;
  readonly workerUrl: string | undefined;
  /** Files from this computer, loaded instead of downloading `model` (local-files.ts). */
  readonly local?: Pick<ModelSpec, 'files' | 'keep'>;
  /** Ask for each token's probability and alternatives (show-confidence). */
  readonly showConfidence?: boolean;
  /** Prefill the next prompt's known start while the visitor types (warm-prompt, default on). */
  readonly warmPrompt?: boolean;
}

/** Downloads above this many bytes wait for a click (the bundled model is far below). */
export const LARGE_DOWNLOAD_BYTES = 50 * 1024 * 1024;

/** The controller's dependencies as default parameters, so tests pass their own. */
export interface ChatDeps {
  readonly createEngine: (choice: EngineChoice) => Engine;
  readonly store: ConversationStore;
  /** Bytes of the model already stored on this device (an interrupted download), 0 when none. */
  readonly storedModelBytes?: (url: string) => Promise<number>;
  /** Models that load without asking (the bundled one). */
  readonly isSmallModel: (url: string) => boolean;
  /** Asks for persistent storage after the user confirmed a download (default: navigator.storage.persist). */
  readonly requestPersistence?: () => Promise<boolean | null>;
  /** Rewords a load error of the model at `url` (the element explains a missing bundled model). */
  readonly explainLoadError?: (error: GptError, url: string) => GptError;
}
