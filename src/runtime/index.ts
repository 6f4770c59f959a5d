/**
 * The gpt-chat runtime: a decoder-only GPT on WebGPU or the CPU, for the main thread, a Web
 * Worker or Node. No side effects on import.
 */
export { loadLanguageModel, type LoadOptions } from './load-model.ts';
export { compileSimdKernels } from './cpu/simd-kernels.ts';
export { createBackend, type BackendChoice, type BackendChoiceOptions, type BackendDecision, type BackendProbe, type ProbeStore } from './backend-choice.ts';
export type { QuantizeOnLoad } from './model/quantize-on-load.ts';
export type { KeptWeightsFile } from './model/kept-weights.ts';
export { LanguageModel, type GenerateInput, type GenerateResult } from './language-model.ts';
export { GptModel, logSoftmaxAt, type ContinuationScore, type GptModelOptions } from './model/gpt-model.ts';
export type { ModelConfig } from './model/config.ts';
export type { GenerateOptions, TokenEvent, FinishReason } from './generation-options.ts';
export { tokenConfidence, type TokenAlternative } from './token-confidence.ts';
export { GptError, type GptErrorCode } from '../errors.ts';
export { TextTokenizer } from './tokenizer.ts';
export { StreamingDetokenizer } from './detokenizer.ts';
export { Sampler, SAMPLER_DEFAULTS, type SamplerOptions } from './sampler.ts';
export { ChatTemplate, encodeChat, type ChatMessage } from './chat-template.ts';
export { httpModelFiles } from './model-files-http.ts';
export type { ModelFiles, FileStream, LoadProgress } from '../formats/model-files.ts';
export { LoadTimings, type LoadPhase, type LoadTimingsRecord } from '../formats/load-timings.ts';
export type { Backend } from './backend.ts';
export { parseModelConfig } from './model/hf-config.ts';
export { adapterLimits } from './webgpu/device.ts';
export { gpuFitProblem, gpuFitError, type GpuBindingLimits, type GpuFitProblem } from './webgpu/gpu-fit.ts';
