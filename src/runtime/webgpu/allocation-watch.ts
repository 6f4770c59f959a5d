import { GptError } from '../../errors.ts';

const MiB = 1024 * 1024;

/**
 * GPU memory exhaustion, caught where it happens. `createBuffer` never throws when memory runs
 * out: it returns an invalid buffer and reports a GPUOutOfMemoryError to the innermost
 * 'out-of-memory' error scope, or as an uncaptured error nobody reads, and the first forward pass
 * then fails validation with a message about an invalid buffer. So every allocation runs inside
 * its own scope, and {@link check} (awaited before a submit, and once at the end of a load) turns
 * the first failure into GptError 'gpu-out-of-memory' that says how much the model needed.
 */
export class AllocationWatch {
  #pending: Promise<void>[] = [];
  #failure: { label: string; bytes: number; message: string } | null = null;

  constructor(private readonly device: GPUDevice) {}

  /** Runs `create` inside an out-of-memory error scope; `bytesOf` says what it allocated, for the message. */
  around<T>(label: string, create: () => T, bytesOf: (made: T) => number): T {
    this.device.pushErrorScope('out-of-memory');
    let made: T | undefined;
    try {
      made = create();
    } finally {
      const bytes = made === undefined ? 0 : bytesOf(made);
      const popped = this.device.popErrorScope().then(
        (error) => {
          if (error && !this.#failure) this.#failure = { label, bytes, message: error.message };
        },
        () => {}, // a lost device rejects the pop; the backend reports the loss itself
      );
      this.#pending.push(popped);
    }
    return made;
  }

  /**
   * Waits for the scopes of every allocation so far and throws GptError 'gpu-out-of-memory' when
   * one ran out of memory. `needed` is the bytes the backend asked for in all.
   */
  async check(needed: number): Promise<void> {
    if (this.#pending.length) {
      const pending = this.#pending;
      this.#pending = [];
      await Promise.all(pending);
    }
    const f = this.#failure;
    if (!f) return;
    throw new GptError(
      'gpu-out-of-memory',
      `The GPU ran out of memory: this model needs about ${mib(needed)} of GPU memory (weights, KV cache and scratch), ` +
        `and allocating ${f.label} (${mib(f.bytes)}) failed${f.message ? ` (${f.message})` : ''}. ` +
        'Hint: close other tabs or apps using the GPU, pick a smaller model or a shorter context, or use engine="cpu" (or "auto", which falls back to the CPU).',
    );
  }
}

function mib(bytes: number): string {
  return bytes >= 1024 * MiB ? `${(bytes / (1024 * MiB)).toFixed(1)} GiB` : `${Math.ceil(bytes / MiB)} MiB`;
}
