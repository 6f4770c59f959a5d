/** What the streaming detokenizer needs of a tokenizer: decoding a list of ids. */
export interface TokenDecoder {
  decode(ids: ArrayLike<number>, options?: { skipSpecialTokens?: boolean }): string;
}

const REPLACEMENT = '\uFFFD';
// The window is cut back to CONTEXT tokens once it grows past MAX_WINDOW, so each push decodes
// at most MAX_WINDOW tokens: O(1) per token, O(tokens) per reply.
const MAX_WINDOW = 24;
// Tokens kept before the not-yet-final text when the window is cut. One would do for the
// leading-space rule; 8 also covers a held-back incomplete UTF-8 character (at most 3 bytes, at
// least one byte per token) even when special tokens that decode to nothing sit between its bytes.
const CONTEXT = 8;

/**
 * Turns generated token ids into text as they arrive. `push(id)` returns the text that is now
 * final; `flush()` returns the rest when generation ends. The deltas always add up to exactly
 * `decode(allIds)`.
 *
 * Never emits half a character: a UTF-8 character split over several tokens (byte-fallback tokens
 * `<0xF0><0x9F><0x98><0x80>`, or byte-level BPE pieces of an emoji) decodes to a trailing U+FFFD
 * until its last byte arrives, and that trailing U+FFFD is held back. A U+FFFD reaches the stream
 * only when the bytes really are invalid: when later text follows it, or at flush.
 *
 * How: decode a window of recent ids and emit the part of it not yet emitted. The window starts a
 * few tokens before the new ones because decoding is not a concatenation per token: SentencePiece
 * decoders drop the leading space of the first token ("▁Hello" alone is "Hello", after "▁Hi" it is
 * " Hello"), and byte-level decoders join bytes across tokens.
 */
export class StreamingDetokenizer {
  private readonly ids: number[] = [];
  // the window is ids[start, ids.length); `emitted` code units of its decoded text are already out
  private start = 0;
  private emitted = 0;
  private readonly skipSpecialTokens: boolean;

  /**
   * @param tokenizer decodes ids (a TextTokenizer)
   * @param options.skipSpecialTokens leave special tokens out of the text (default true: a chat
   *   reply shows words, not `<|im_end|>`)
   */
  constructor(
    private readonly tokenizer: TokenDecoder,
    options: { skipSpecialTokens?: boolean } = {},
  ) {
    this.skipSpecialTokens = options.skipSpecialTokens ?? true;
  }

  /** Adds one generated id; returns the text that became final (often '', never half a character). */
  push(id: number): string {
    this.ids.push(id);
    const text = this.decodeWindow();
    // a trailing U+FFFD may be the start of a character whose other bytes are still to come
    let safeEnd = text.endsWith(REPLACEMENT) ? text.length - 1 : text.length;
    if (safeEnd < this.emitted) safeEnd = this.emitted;
    const delta = text.slice(this.emitted, safeEnd);
    this.emitted = safeEnd;
    if (this.ids.length - this.start > MAX_WINDOW) this.cutWindow(text.length - this.emitted);
    return delta;
  }

  /** Ends the stream: returns everything not yet emitted (a U+FFFD for bytes that never completed). */
  flush(): string {
    const text = this.decodeWindow();
    const delta = text.slice(this.emitted);
    this.emitted = text.length;
    return delta;
  }

  /** All ids pushed so far. */
  get tokenIds(): readonly number[] {
    return this.ids;
  }

  private decodeWindow(): string {
    return this.tokenizer.decode(this.ids.slice(this.start), { skipSpecialTokens: this.skipSpecialTokens });
  }

  /**
   * Moves the window start to CONTEXT tokens before the end. The held-back tail (`pending` code
   * units, 0 or 1) lies within the last tokens, so it decodes the same in the shorter window and
   * the emitted count is recomputed from the end. When the shorter window does not end with the
   * held-back U+FFFD (its bytes are further back), the cut waits for a later token.
   */
  private cutWindow(pending: number): void {
    const start = this.ids.length - CONTEXT;
    const text = this.tokenizer.decode(this.ids.slice(start), { skipSpecialTokens: this.skipSpecialTokens });
    if (pending > 0 && !text.endsWith(REPLACEMENT)) return;
    this.start = start;
    this.emitted = text.length - pending;
  }
}
