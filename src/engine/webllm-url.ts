/**
 * Where the web-llm engine lives. The engine owns this seam: `webllm/` imports the engine's types
 * and the engine reaches web-llm only by this URL, never by an import, so the web-llm bundle stays
 * out of the worker. In the source tree it is src/webllm/load.ts; rollup.config.mjs rewrites it to
 * gpt-chat-webllm.js for dist/, where it sits beside gpt-chat-worker.js (the bundle that holds
 * this module). Like worker-url.ts, it resolves against wherever the bundle is served from.
 */
export function webLlmBundleUrl(): string {
  return new URL('../webllm/load.ts', import.meta.url).href;
}
