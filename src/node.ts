import type { ModelFiles } from './formats/model-files.ts';
import { createBackend as choose, type BackendChoice, type BackendChoiceOptions, type BackendDecision } from './runtime/backend-choice.ts';
import type { LanguageModel } from './runtime/language-model.ts';
import * as runtime from './runtime/load-model.ts';
import type { AcquireDeviceOptions } from './runtime/webgpu/device.ts';
import { nodeGpu } from './runtime/webgpu/node-gpu.ts';

/**
 * The Node entry of gpt-chat (`gpt-chat/node`): the runtime, few-shot templates, and model folders
 * read from disk. Used by the CLI and the benchmarks; no side effects. WebGPU here is Dawn (the
 * `webgpu` npm package), started on the first load that asks for it; the browser bundles hold
 * none of this (they take navigator.gpu).
 */
export * from './runtime/index.ts';
export * from './templates/index.ts';
export { nodeModelFiles } from './runtime/model-files-node.ts';
export { nodeGpu } from './runtime/webgpu/node-gpu.ts';

/** {@link runtime.loadLanguageModel}, with WebGPU from Dawn unless `options.device.gpu` says otherwise. */
export function loadLanguageModel(source: string | ModelFiles, options: runtime.LoadOptions = {}): Promise<LanguageModel> {
  return runtime.loadLanguageModel(source, { ...options, device: withDawn(options.device) });
}

/** {@link choose createBackend} of the runtime, with WebGPU from Dawn unless `options.device.gpu` says otherwise. */
export function createBackend(choice: BackendChoice, options: BackendChoiceOptions = {}): Promise<BackendDecision> {
  return choose(choice, { ...options, device: withDawn(options.device) });
}

function withDawn(options: AcquireDeviceOptions = {}): AcquireDeviceOptions {
  return { ...options, gpu: options.gpu ?? nodeGpu };
}
