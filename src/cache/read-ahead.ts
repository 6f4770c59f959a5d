/**
 * Reading a file's chunks with the next ones already on their way: IndexedDB reads side by side
 * share the disk and IPC and land together, yet end sooner than one at a time
 * (bench/ttft-bench.mjs measured three ahead against one: ready 5.7 s against 7.2, for Uint8Array
 * values and again for Blob values).
 */

/** Chunks read ahead of the one the reader has: at most READ_AHEAD + 1 (16 MiB each) in flight. */
const READ_AHEAD = 3;

/**
 * `read(0)` .. `read(count - 1)` in order, each started up to {@link READ_AHEAD} before the reader
 * asks for it; the first alone (it holds the headers the reader parses first, and waits for
 * nothing else). A failed read fails the iteration when its turn comes. `waited` gets the ms the
 * reader waited for each chunk; `check` runs before each wait (an abort).
 */
export async function* readAhead<T>(
  count: number,
  read: (index: number) => Promise<T>,
  { waited, check }: { waited?: (ms: number) => void; check?: () => void } = {},
): AsyncGenerator<T> {
  const pending: Promise<T>[] = [];
  let next = 0;
  const fill = (ahead: number) => {
    while (pending.length <= ahead && next < count) {
      const p = read(next++);
      p.catch(() => {}); // awaited in turn
      pending.push(p);
    }
  };
  fill(0);
  while (pending.length > 0) {
    check?.();
    const start = performance.now();
    const item = await pending.shift()!;
    waited?.(performance.now() - start);
    fill(READ_AHEAD);
    yield item;
  }
}
