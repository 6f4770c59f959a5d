/**
 * The Node entry of gpt-chat (`gpt-chat/node`): the runtime, few-shot templates, and model folders
 * read from disk. Used by the CLI and the benchmarks; no side effects.
 */
export * from './runtime/index.ts';
export * from './templates/index.ts';
export { nodeModelFiles } from './runtime/model-files-node.ts';
