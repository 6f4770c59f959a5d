/**
 * Download progress with rate and time left. Bytes are counted per file as the furthest position
 * reached, so the totals never go backwards when a span is fetched again (a resume after a dropped
 * connection, a server that ignored Range).
 */
import type { LoadProgress } from '../formats/model-files.ts';

/**
 * One progress report. `loaded` and `total` (from LoadProgress) are for the whole model folder;
 * `fileLoaded` and `fileTotal` for the file named by `file`. Chunks already stored by an earlier
 * attempt count as loaded from the start.
 */
export interface CacheProgress extends LoadProgress {
  readonly fileLoaded: number;
  /** 0 while the server has not said how long the file is. */
  readonly fileTotal: number;
  /** Download rate over the last few seconds, bytes per second (0 until measurable). */
  readonly bytesPerSecond: number;
  /** Estimated seconds left at that rate; null until a rate is known. */
  readonly secondsLeft: number | null;
  /** True on the last report of a successful download. */
  readonly done: boolean;
}

/** The rate is measured over this window: long enough to smooth, short enough to follow changes. */
const RATE_WINDOW_MS = 3000;

/** Turns byte positions into throttled CacheProgress reports. */
export class ProgressMeter {
  private readonly sizes = new Map<string, number>();
  private readonly reached = new Map<string, number>();
  private samples: [number, number][] = []; // (time ms, bytes fetched from the network)
  private fetched = 0;
  private lastEmit = -Infinity;

  constructor(
    private readonly emit: (p: CacheProgress) => void,
    private readonly now: () => number = () => performance.now(),
    private readonly minIntervalMs = 50,
  ) {}

  /** Declares a file, its size (null if unknown) and the bytes already stored. */
  addFile(name: string, size: number | null, stored: number): void {
    this.sizes.set(name, size ?? 0);
    this.reached.set(name, stored);
  }

  /** The server said how long a file is (after a response without a length was read to the end). */
  setSize(name: string, size: number): void {
    this.sizes.set(name, size);
  }

  /** `fresh` bytes came from the network and the file is now read up to `position`. */
  advance(name: string, position: number, fresh: number): void {
    this.fetched += fresh;
    this.reached.set(name, Math.max(this.reached.get(name) ?? 0, position));
    const t = this.now();
    this.samples.push([t, this.fetched]);
    while (this.samples.length > 2 && t - this.samples[0]![0] > RATE_WINDOW_MS) this.samples.shift();
    if (t - this.lastEmit >= this.minIntervalMs) this.report(name, false);
  }

  /** Emits a report now, unthrottled (file boundaries and the end). */
  report(name: string, done: boolean): void {
    this.lastEmit = this.now();
    const total = [...this.sizes.values()].reduce((a, b) => a + b, 0);
    const loaded = Math.min(total, [...this.reached.values()].reduce((a, b) => a + b, 0));
    const [t0, b0] = this.samples[0] ?? [0, 0];
    const [t1, b1] = this.samples[this.samples.length - 1] ?? [0, 0];
    const bytesPerSecond = t1 > t0 ? ((b1 - b0) * 1000) / (t1 - t0) : 0;
    this.emit({
      file: name,
      fileLoaded: this.reached.get(name) ?? 0,
      fileTotal: this.sizes.get(name) ?? 0,
      loaded: done ? total : loaded,
      total,
      bytesPerSecond,
      secondsLeft: done ? 0 : bytesPerSecond > 0 ? (total - loaded) / bytesPerSecond : null,
      done,
    });
  }
}
