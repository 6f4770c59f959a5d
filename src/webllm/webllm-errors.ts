/**
 * web-llm's errors as GptErrors. web-llm throws ~50 Error subclasses told apart by `name` (see
 * its lib/error.d.ts); the few a chat user can act on get a code and a hint, the rest keep
 * web-llm's own message under 'internal'.
 */
import { GptError } from '../errors.ts';

/** `e` (anything web-llm threw) as a GptError; `aborted` says the caller's signal fired. */
export function webLlmError(e: unknown, aborted = false): GptError {
  if (e instanceof GptError) return e;
  if (aborted) return new GptError('aborted', 'The web-llm model load was aborted.');
  const name = e instanceof Error || (e && typeof e === 'object' && 'name' in e) ? String((e as { name: unknown }).name) : '';
  const message = e instanceof Error ? e.message : String(e);
  switch (name) {
    case 'WebGPUNotAvailableError':
    case 'WebGPUNotFoundError':
      return noWebGpu();
    case 'ShaderF16SupportError':
      return new GptError('unsupported-model', 'This web-llm model needs the WebGPU feature shader-f16, which this browser or GPU lacks. Pick a q4f32 or q0f32 variant of the model (its id says f32), or use engine="auto".');
    case 'DeviceLostError':
      return new GptError('device-lost', 'The GPU device was lost while web-llm ran the model (often out of GPU memory). Reload the page, or pick a smaller web-llm model (fewer parameters, a "-1k" context variant).');
    case 'ContextWindowSizeExceededError':
      return new GptError('context-overflow', `The conversation no longer fits the web-llm model's context window (${message}). Start a new conversation or shorten the message.`);
    case 'ModelNotFoundError':
      return new GptError('bad-argument', `${message} Use an id of web-llm's prebuiltAppConfig with engine="webllm".`);
    case 'QuotaExceededError':
      return new GptError('quota', 'The browser ran out of storage while web-llm cached the model. Free some space (delete cached models) or pick a smaller model.');
    case 'AbortError':
      return new GptError('aborted', 'The web-llm operation was aborted.');
  }
  // fetch() rejects with a bare TypeError when the network or CORS fails.
  if (e instanceof TypeError && /fetch|network/i.test(message)) {
    return new GptError('network', `web-llm could not download the model: ${message}. Check the connection (weights come from huggingface.co, libraries from raw.githubusercontent.com) and try again.`);
  }
  return new GptError('internal', `web-llm: ${message}`);
}

/** The error for a browser without WebGPU: web-llm has no CPU path, our runtime does. */
export function noWebGpu(): GptError {
  return new GptError('no-webgpu', 'engine="webllm" needs WebGPU, which this browser does not offer (or it is disabled). Use engine="auto" to run our own runtime, which falls back to the CPU.');
}
