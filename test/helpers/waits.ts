// Waiting in browser tests: for a delay, and for a condition polled on a timer (not on animation
// frames, which a page in the background may not get).

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Resolves once `ok()` holds, polling every `pollMs`; throws naming `what` after `timeoutMs`. */
export async function until(what: string, ok: () => boolean, timeoutMs = 60_000, pollMs = 20): Promise<void> {
  const start = performance.now();
  while (!ok()) {
    if (performance.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(pollMs);
  }
}
