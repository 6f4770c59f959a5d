import type { LoadProgress } from '../../formats/model-files.ts';

// Within a big tensor (a 270 MB embedding) report every MiB, not every chunk.
const PROGRESS_STEP = 1 << 20;

/**
 * Counts weight bytes as they stream in and reports them: when a file starts, at every tensor
 * boundary, and every MiB within a tensor. One for safetensors folders and GGUF files alike.
 */
export class WeightProgress {
  /** Tensor data bytes read so far, over all files. */
  loaded = 0;
  /** The file being read and the bytes expected in all (grows as shards are opened). */
  file = '';
  total = 0;
  #reported = -1;
  readonly #onProgress: ((p: LoadProgress) => void) | undefined;

  constructor(onProgress: ((p: LoadProgress) => void) | undefined) {
    this.#onProgress = onProgress;
  }

  report(): void {
    this.#reported = this.loaded;
    this.#onProgress?.({ file: this.file, loaded: this.loaded, total: Math.max(this.total, this.loaded) });
  }

  /** The readers' `onBytes`. */
  readonly onBytes = (n: number): void => {
    this.loaded += n;
    if (this.loaded - this.#reported >= PROGRESS_STEP) this.report();
  };

  /** At a tensor boundary: reports what was read since the last report. */
  tensorDone(): void {
    if (this.loaded !== this.#reported) this.report();
  }

  /** The last report: everything there was is loaded. */
  finish(): void {
    this.#onProgress?.({ file: this.file, loaded: this.loaded, total: this.loaded });
  }
}
