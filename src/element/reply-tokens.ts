/**
 * The tokens of <gpt-chat show-confidence> replies with their log-probabilities, kept beside the
 * turns (not in them: a stored conversation keeps only text). Their view is chat-confidence.ts.
 */
import type { EngineEvent, TokenAlternative } from '../engine/engine.ts';
import type { ChatTurn } from './events.ts';

/** How many of the most likely tokens each step reports (the `logprobs` sampling option). */
export const TOP_ALTERNATIVES = 5;

/** Tokens under this probability are marked unless `confidence-threshold` says otherwise. */
export const DEFAULT_CONFIDENCE_THRESHOLD = 0.5;

/** The `confidence-threshold` attribute, kept to (0, 1]. */
export const thresholdOf = (t: number): number => (Number.isFinite(t) && t > 0 && t <= 1 ? t : DEFAULT_CONFIDENCE_THRESHOLD);

/** One token of a reply as the engine streamed it. */
export interface ReplyToken {
  readonly text: string;
  readonly logprob?: number;
  readonly top?: readonly TokenAlternative[];
}

/** The tokens of the reply being written and of the replies written with confidence on. */
export class ReplyConfidence {
  /** The reply being generated, token by token. */
  current: ReplyToken[] = [];
  readonly #byTurn = new WeakMap<ChatTurn, readonly ReplyToken[]>();

  /** A new reply starts. */
  start(): void {
    this.current = [];
  }

  /** A token arrived; those without a logprob (confidence off, a final flush) keep their text only. */
  push(ev: Extract<EngineEvent, { type: 'token' }>): void {
    if (!ev.text && ev.logprob === undefined) return;
    this.current = [...this.current, ev]; // the event is a ReplyToken (and its id)
  }

  /** The reply became `turn`: its tokens stay with it (when any carried a probability). */
  keep(turn: ChatTurn): void {
    if (this.current.some((t) => t.logprob !== undefined)) this.#byTurn.set(turn, this.current);
    this.current = [];
  }

  /** The tokens of `turn`, when it was written with confidence on. */
  of(turn: ChatTurn): readonly ReplyToken[] | undefined {
    return this.#byTurn.get(turn);
  }
}

