import { GptError } from '../errors.ts';

/** What {@link scanStopStrings} found in a text. */
export interface StopScan {
  /**
   * How many UTF-16 code units from the start may be shown: everything before the first complete
   * stop string, or, when none completed, everything except the longest tail that could still
   * grow into one.
   */
  readonly safeEnd: number;
  /** True when a stop string occurs in the text; `safeEnd` is then where it starts. */
  readonly stopped: boolean;
}

/**
 * Looks for stop strings in generated text. A stop string that completes anywhere ends the reply
 * there (the earliest one wins; the stop string itself is not part of the reply). The tail that is
 * a proper prefix of some stop string ("\nUs" of "\nUser:") is held back, since the next tokens
 * may complete it.
 */
export function scanStopStrings(text: string, stops: readonly string[]): StopScan {
  let first = -1;
  for (const stop of stops) {
    if (stop.length === 0) continue;
    const at = text.indexOf(stop);
    if (at >= 0 && (first < 0 || at < first)) first = at;
  }
  if (first >= 0) return { safeEnd: first, stopped: true };
  let hold = 0;
  for (const stop of stops) {
    // longest k < stop.length such that text ends with stop's first k characters
    for (let k = Math.min(stop.length - 1, text.length); k > hold; k--) {
      if (text.endsWith(stop.slice(0, k))) {
        hold = k;
        break;
      }
    }
  }
  return { safeEnd: text.length - hold, stopped: false };
}

/**
 * Streams text through a set of stop strings: `push(delta)` returns the part that is now safe to
 * show and whether a stop string completed. Only the held-back tail and the new delta are
 * searched, so a long reply costs O(length x stops), not O(length^2): text already released can
 * hold no start of a stop string (else it would have been held back).
 */
export class StopStringMatcher {
  private held = '';
  private done = false;

  /** @param stops the stop strings; empty strings are refused (they would stop at once). */
  constructor(readonly stops: readonly string[]) {
    for (const [i, stop] of stops.entries()) {
      if (typeof stop !== 'string' || stop.length === 0) {
        throw new GptError('bad-argument', `stop string ${i} is ${JSON.stringify(stop)}; expected a non-empty string.`);
      }
    }
  }

  /** True once a stop string has completed; later pushes return nothing. */
  get stopped(): boolean {
    return this.done;
  }

  /** Adds newly decoded text; returns what may be shown now and whether generation should stop. */
  push(delta: string): { text: string; stopped: boolean } {
    if (this.done) return { text: '', stopped: true };
    const text = this.held + delta;
    const scan = scanStopStrings(text, this.stops);
    this.held = scan.stopped ? '' : text.slice(scan.safeEnd);
    this.done = scan.stopped;
    return { text: text.slice(0, scan.safeEnd), stopped: scan.stopped };
  }

  /**
   * Ends the stream when generation stopped for another reason (EOS, length, abort): takes the
   * last delta, if any, and returns all the text still to show. The held-back tail never became a
   * stop string, so it is reply text.
   */
  end(delta = ''): string {
    const { text, stopped } = this.push(delta);
    const rest = stopped ? '' : this.held;
    this.held = '';
    return text + rest;
  }
}
