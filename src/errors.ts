/**
 * The one error type of gpt-chat. `code` is stable and machine readable; `message` says what went
 * wrong, where (file, tensor, field) and what to do about it. It crosses a worker boundary as
 * `{ code, message }` (see {@link GptError.from}).
 */
export class GptError extends Error {
  override readonly name = 'GptError';
  constructor(
    readonly code: GptErrorCode,
    message: string,
  ) {
    super(message);
  }

  /** The plain form that survives structured clone. */
  toJSON(): { code: GptErrorCode; message: string } {
    return { code: this.code, message: this.message };
  }

  /** Rebuilds an error sent as `{ code, message }`; wraps anything else as `internal`. */
  static from(value: unknown): GptError {
    if (value instanceof GptError) return value;
    if (value && typeof value === 'object' && 'code' in value && 'message' in value) {
      return new GptError((value as { code: GptErrorCode }).code, String((value as { message: unknown }).message));
    }
    if (value instanceof Error && value.name === 'AbortError') return new GptError('aborted', 'The operation was aborted.');
    return new GptError('internal', value instanceof Error ? value.message : String(value));
  }
}

export type GptErrorCode =
  | 'file-missing' // a file of the model folder could not be read
  | 'bad-json' // config.json, tokenizer.json ... is not valid JSON
  | 'bad-config' // a config field is missing or has a value we cannot use
  | 'unsupported-model' // model_type we do not implement
  | 'bad-safetensors' // the safetensors bytes are malformed
  | 'bad-gguf' // the GGUF bytes or metadata are malformed
  | 'missing-tensor' // a tensor the architecture needs is absent
  | 'bad-tensor-shape' // a tensor's shape does not match what the config implies
  | 'unsupported-dtype' // a dtype other than F32, F16, BF16
  | 'no-webgpu' // WebGPU is not available here
  | 'device-lost' // the GPU device was lost; load the model again
  | 'gpu-out-of-memory' // the model (weights, KV cache) does not fit in GPU memory, or one of its buffers in a binding
  | 'context-overflow' // the sequence would not fit the context window
  | 'bad-argument' // an API argument is out of range
  | 'aborted' // the caller aborted
  | 'disposed' // the model was disposed
  | 'worker-crashed' // the engine worker died mid-request; the next request starts a new one
  | 'network' // a download failed
  | 'cors' // the model's server does not let this page read it (missing CORS headers)
  | 'quota' // storage is full
  | 'integrity' // stored or downloaded bytes do not match what was expected
  | 'bad-template' // a few-shot template is invalid
  | 'bad-head' // a task head is malformed, or belongs to another model or template
  | 'internal';
