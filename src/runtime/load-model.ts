import { parseJsonObject, type JsonObject } from '../formats/json.ts';
import { parseModelConfig } from './model/hf-config.ts';
import type { FileStream, LoadProgress, ModelFiles } from '../formats/model-files.ts';
import { openGguf } from '../formats/gguf.ts';
import type { Backend } from './backend.ts';
import { missingTemplateNotice, readChatTemplate } from './chat-template-source.ts';
import { GptError } from '../errors.ts';
import { LanguageModel } from './language-model.ts';
import { loadGgufLanguageModel } from './load-gguf.ts';
import { contextLengthFor } from './model/config-limits.ts';
import { GptModel } from './model/gpt-model.ts';
import { loadWeights } from './model/load-weights.ts';
import type { QuantizeOnLoad } from './model/quantize-on-load.ts';
import { KeptWeights, loadKeptWeights, type KeptWeightsFile } from './model/kept-weights.ts';
import { WeightsFingerprint } from './model/weights-fingerprint.ts';
import { timedUploads } from './model/timed-uploads.ts';
import { LoadTimings } from '../formats/load-timings.ts';
import { httpModelFiles } from './model-files-http.ts';
import { TextTokenizer } from './tokenizer.ts';
import type { AcquireDeviceOptions } from './webgpu/device.ts';
import { cpuDecision, createBackend, type BackendChoice, type ProbeStore } from './backend-choice.ts';
import { compileSimdKernels } from './cpu/simd-kernels.ts';
import type { ModelConfig } from './model/config.ts';

export type { BackendChoice };

export interface LoadOptions {
  /**
   * 'webgpu' fails without WebGPU, and with 'gpu-out-of-memory' for a model whose run state no
   * binding of the GPU holds (webgpu/gpu-fit.ts); 'auto' (default) takes the faster backend for
   * this device (see createBackend in backend-choice.ts) and sets `notice` when it found no WebGPU
   * or the model cannot run on it.
   */
  readonly backend?: BackendChoice;
  /** Context window in tokens (default min(model maximum, 2048)). */
  readonly contextLength?: number;
  /** Tokens per forward call while prefilling (default 64). */
  readonly prefillChunk?: number;
  readonly onProgress?: (p: LoadProgress) => void;
  readonly signal?: AbortSignal;
  /** How to get a GPU device (the Node entry passes Dawn, tests their own `gpu`). */
  readonly device?: AcquireDeviceOptions;
  /**
   * Quantize the matrices to Q8_0 or Q4_0 blocks as they stream in: a quarter (q8_0: 8.5 bits a
   * weight) or an eighth (q4_0: 4.5 bits) of f32's memory, and of the bytes a decode step reads.
   * Unset: every weight keeps the checkpoint's dtype. A GGUF file's quantized tensors stay as they
   * are either way; this applies to its float matrices. See README "Quantize on load" for the cost.
   */
  readonly quantize?: QuantizeOnLoad;
  /** Where 'auto' keeps its per-device probe results (the engine passes one over IndexedDB). */
  readonly probeStore?: ProbeStore;
  /**
   * Whether a device's adapter runs on the CPU, for 'auto' (default: read from the adapter). Tests
   * on SwiftShader pass `() => false` to take the path 'auto' takes on a hardware GPU.
   */
  readonly cpuBacked?: (device: GPUDevice) => boolean | null;
  /** After the weights: kernels compiled ahead of the first token (GPU pipelines done of total). */
  readonly onPrepare?: (done: number, total: number) => void;
  /**
   * With `quantize`, a model's weights (a folder's or a GGUF's) as an earlier load with the same
   * `quantize` kept them (`onKeepWeights`): read instead of the checkpoint, and nothing is quantized.
   * The caller vouches that they came from this checkpoint; a file that is not kept weights of this model's shape
   * fails with GptError 'bad-gguf' (see model/kept-weights.ts). `open` may be called more than
   * once ('auto' loads again on the CPU when the GPU is out of memory).
   */
  readonly keptWeights?: { open(signal?: AbortSignal): Promise<FileStream> };
  /**
   * With `quantize`, called once a model has loaded from its checkpoint, with its weights as the
   * backend holds them, to keep for the next load (`keptWeights`). Not called for a GGUF whose
   * matrices are all quantized already (quantize on load changed nothing worth keeping).
   */
  readonly onKeepWeights?: (file: KeptWeightsFile) => void;
  /** Where the load's parse, backend, weights, upload and prepare phases are counted (see formats/load-timings.ts). */
  readonly timings?: LoadTimings;
}

/**
 * Loads a decoder-only GPT from a Hugging Face style folder or one GGUF file: a `ModelFiles` (a
 * local directory or .gguf in Node, the IndexedDB cache) or a URL string. From a folder it reads
 * config.json, tokenizer.json, tokenizer_config.json, generation_config.json and the chat template
 * (chat-template-source.ts) when present, then streams the safetensors weights into the backend;
 * from a GGUF, its header, then its tensors.
 */
export async function loadLanguageModel(source: string | ModelFiles, options: LoadOptions = {}): Promise<LanguageModel> {
  void compileSimdKernels(); // while the model is read
  const files = typeof source === 'string' ? httpModelFiles(source) : source;
  const choice = options.backend ?? 'auto';
  try {
    const { device, probeStore, cpuBacked, contextLength, prefillChunk } = options;
    return await loadOn(files, options, (config) => createBackend(choice, { device, config, probeStore, cpuBacked, contextLength, prefillChunk }));
  } catch (err) {
    // A model too large for the GPU still runs from main memory on the CPU: 'auto' does that and says so.
    if (choice !== 'auto' || !(err instanceof GptError) || err.code !== 'gpu-out-of-memory') throw err;
    const needed = /needs about ([^ ]+ [GM]iB)/.exec(err.message)?.[1] ?? 'more than it has';
    const notice = `The model does not fit in this GPU's memory (it needs about ${needed}), so it runs on the CPU (slower).`;
    return loadOn(files, options, async () => cpuDecision('too large for this GPU', notice));
  }
}

/** The backend for a model of `config` (see createBackend in backend-choice.ts). */
export type BackendFactory = (config: ModelConfig) => Promise<{ backend: Backend; notice?: string; reason?: string }>;

async function loadOn(files: ModelFiles, options: LoadOptions, newBackend: BackendFactory): Promise<LanguageModel> {
  const quantize = checkQuantize(options.quantize);
  const { ggufFile } = files;
  try {
    if (ggufFile !== undefined) return await loadGgufLanguageModel(files, ggufFile, { ...options, quantize }, newBackend);
    return await loadFolder(files, options, quantize, newBackend);
  } catch (err) {
    // Bytes still being checked may be what failed (a damaged chunk read as a bad header or
    // tensor): then the damage is the error, which the cache repairs, not the file.
    await files.verified?.();
    throw err;
  }
}

async function loadFolder(files: ModelFiles, options: LoadOptions, quantize: QuantizeOnLoad | undefined, newBackend: BackendFactory): Promise<LanguageModel> {
  const { signal } = options;
  const timings = options.timings ?? new LoadTimings();
  const parsing = performance.now();

  // what the model is, and how its text maps to ids: all small files, read before any weight
  const config = parseModelConfig(await files.text('config.json'), 'config.json');
  contextLengthFor(config, options.contextLength); // a contextLength past the model or memory fails before any allocation
  const readOptional = async (name: string): Promise<JsonObject | null> =>
    (await files.has(name)) ? parseJsonObject(await files.text(name), name) : null;
  const tokenizerJson = parseJsonObject(await files.text('tokenizer.json'), 'tokenizer.json');
  const tokenizerConfig = (await readOptional('tokenizer_config.json')) ?? {};
  const generationConfig = await readOptional('generation_config.json');
  const tokenizer = TextTokenizer.fromJson(tokenizerJson, tokenizerConfig, { modelEosTokenIds: config.eosTokenIds, generationConfig });
  if (tokenizer.vocabSize > config.V) {
    throw new GptError(
      'bad-config',
      `tokenizer.json knows ${tokenizer.vocabSize} token ids but config.json vocab_size is ${config.V}: ` +
        'the tokenizer does not belong to this checkpoint. Use the tokenizer.json of the same model.',
    );
  }
  const chatTemplate = await readChatTemplate(files, tokenizerConfig, tokenizer);
  const templateNotice = missingTemplateNotice(chatTemplate, files.location, tokenizer.specialTokens);
  signal?.throwIfAborted();
  timings.since('parse', parsing);

  const created = await timings.time('backend', () => newBackend(config));
  const { backend } = created;
  const notice = [created.notice, templateNotice].filter(Boolean).join(' ') || undefined;
  try {
    const { weights, weightsHash, kept } = await timings.time('weights', () => readWeights(timedUploads(backend, timings), config, files, options, quantize));
    // the weights' chunks passed their checks before the model runs at all (ModelFiles.verified)
    if (files.verified) await timings.time('readWait', () => files.verified!());
    const preparing = performance.now();
    const model = new GptModel(config, backend, weights, { contextLength: options.contextLength, prefillChunk: options.prefillChunk });
    await backend.flush(); // GPU memory exhaustion shows here, before the first reply (gpu-out-of-memory)
    await model.prepare(options.onPrepare);
    timings.since('prepare', preparing);
    if (kept && quantize) options.onKeepWeights?.(kept.file(quantize, weightsHash));
    return new LanguageModel(model, tokenizer, chatTemplate, tokenizer.eosTokenIds, files.location, notice, weightsHash, created.reason);
  } catch (err) {
    backend.destroy();
    throw err;
  }
}

/** A folder's weights: kept ones when given (with `quantize`), else the checkpoint, kept when asked. */
async function readWeights(backend: Backend, config: ModelConfig, files: ModelFiles, options: LoadOptions, quantize: QuantizeOnLoad | undefined) {
  const { signal, onProgress } = options;
  if (quantize && options.keptWeights) {
    const reader = await openGguf(await options.keptWeights.open(signal), `${files.location} (weights kept as ${quantize})`);
    return { ...(await loadKeptWeights(backend, config, reader, quantize, { onProgress, signal })), kept: undefined };
  }
  const fingerprint = new WeightsFingerprint();
  // a model quantized on load is another model to a task head: its hidden states differ a little
  if (quantize) fingerprint.add(`quantize ${quantize}`, quantize, [], new Uint8Array(0));
  const kept = quantize && options.onKeepWeights ? new KeptWeights() : undefined;
  const weights = await loadWeights(backend, config, files, { onProgress, signal, fingerprint, quantize, ...(kept ? { keep: kept } : {}) });
  return { weights, weightsHash: fingerprint.hex(), kept };
}

// the `quantize` option, checked before anything is downloaded
function checkQuantize(q: unknown): QuantizeOnLoad | undefined {
  if (q === undefined || q === 'q8_0' || q === 'q4_0') return q;
  throw new GptError('bad-argument', `quantize: '${String(q)}' is not one of q8_0, q4_0. Hint: leave it unset to keep the checkpoint's dtype.`);
}
