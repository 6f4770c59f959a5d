/**
 * The events of <gpt-chat>, typed once. All are CustomEvents that bubble and cross shadow roots
 * (`composed`), named `gpt-chat-*`. They report user actions and async state changes only, never
 * a property the page set itself.
 */
import type { EngineLoadProgress, FinishReason, ModelInfo, TokenAlternative } from '../engine/engine.ts';
import type { GptErrorCode } from '../errors.ts';

/** One turn of the visible conversation. */
export interface ChatTurn {
  readonly role: 'user' | 'assistant';
  readonly content: string;
}

/** A load's progress; a download waiting for the go-ahead is the element's `confirm` status, not an event. */
export type LoadProgressDetail = EngineLoadProgress & { readonly phase: Exclude<EngineLoadProgress['phase'], 'confirm'> };

/** The detail of `gpt-chat-token`. */
export interface TokenDetail {
  readonly id: number;
  readonly text: string;
  readonly logprob?: number;
  readonly top?: readonly TokenAlternative[];
}

export interface GptChatEventMap {
  /** Bytes of the model loaded so far (download, or read back from this device). */
  'gpt-chat-load-progress': CustomEvent<LoadProgressDetail>;
  /** The model is loaded and the chat can be used. */
  'gpt-chat-ready': CustomEvent<ModelInfo>;
  /**
   * One token of the reply being generated; `text` may be '' inside a multi-byte character. With
   * `show-confidence`: `logprob`, the natural log of the token's probability under the model's
   * distribution (softmax of the logits, before temperature and top-p), and `top`, the 5 most
   * likely tokens at that step, best first.
   */
  'gpt-chat-token': CustomEvent<TokenDetail>;
  /**
   * A reply finished (also when stopped: `finishReason` is then 'aborted'). `promptTokens`: the
   * prompt's tokens; `cachedPromptTokens` (our runtime): of those, the ones the model already had
   * (earlier turns, or the warm-up while the visitor typed, see warm-prompt), not read again.
   */
  'gpt-chat-message': CustomEvent<ChatTurn & { readonly finishReason: FinishReason; readonly promptTokens: number; readonly cachedPromptTokens?: number }>;
  /**
   * The browser answered the request to keep this site's storage, the stored models with it, asked
   * when the user confirms a large download: `persisted` true (kept under storage pressure), false
   * (not granted: the browser may evict it), null (this browser cannot say or ask).
   */
  'gpt-chat-storage': CustomEvent<{ readonly persisted: boolean | null }>;
  /** Something failed; the element shows it too. */
  'gpt-chat-error': CustomEvent<{ readonly code: GptErrorCode; readonly message: string }>;
}

declare global {
  interface HTMLElementEventMap extends GptChatEventMap {}
  // The events bubble and are composed, so listeners on document see them too.
  interface DocumentEventMap extends GptChatEventMap {}
}

/** Dispatches a `gpt-chat-*` event from `target`, bubbling and composed. */
export function emit<K extends keyof GptChatEventMap>(target: EventTarget, type: K, detail: GptChatEventMap[K]['detail']): void {
  target.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true }));
}
