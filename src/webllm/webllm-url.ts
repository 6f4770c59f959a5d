/**
 * Where the web-llm engine lives: in the source tree load.ts beside this file; rollup.config.mjs
 * rewrites it to gpt-chat-webllm.js for dist/, where it sits beside gpt-chat-worker.js (the
 * bundle that holds this module). Like worker-url.ts, it resolves against wherever the bundle is
 * served from.
 */
export function webLlmBundleUrl(): string {
  return new URL('./load.ts', import.meta.url).href;
}
