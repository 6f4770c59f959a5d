/**
 * Where the engine worker script lives by default: beside this module. In the source tree that is
 * worker.ts (served through a TS-aware dev server); rollup.config.mjs rewrites the file name to
 * gpt-chat-worker.js for dist/, where it sits beside gpt-chat.js.
 */
export function defaultWorkerUrl(): string {
  return new URL('./worker.ts', import.meta.url).href;
}
