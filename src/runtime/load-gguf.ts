import type { ModelFiles } from '../formats/model-files.ts';
import { openGguf } from '../formats/gguf.ts';
import { GptError } from '../errors.ts';
import { missingTemplateNotice } from './chat-template-source.ts';
import { ggufTokenizer } from './gguf-tokenizer.ts';
import { LanguageModel } from './language-model.ts';
import { ggufModelConfig } from './model/gguf-config.ts';
import { contextLengthFor } from './model/config-limits.ts';
import { GptModel } from './model/gpt-model.ts';
import { ggufStorage, loadGgufWeights } from './model/load-gguf-weights.ts';
import { KeptWeights, loadKeptWeights } from './model/kept-weights.ts';
import type { ModelConfig } from './model/config.ts';
import type { ModelWeights } from './model/weights.ts';
import { WeightsFingerprint } from './model/weights-fingerprint.ts';
import { timedUploads } from './model/timed-uploads.ts';
import { LoadTimings } from '../formats/load-timings.ts';
import type { BackendFactory, LoadOptions } from './load-model.ts';

/**
 * Loads a model from one GGUF file: the header (metadata, tokenizer, tensor table) is read and
 * checked before any backend is created, then the tensors stream into it (or, with `quantize`
 * and `keptWeights`, the weights an earlier load quantized: see model/kept-weights.ts).
 * `createBackend` is the same backend choice the folder path uses.
 */
export async function loadGgufLanguageModel(
  files: ModelFiles,
  name: string,
  options: LoadOptions,
  createBackend: BackendFactory,
): Promise<LanguageModel> {
  const { signal } = options;
  const timings = options.timings ?? new LoadTimings();
  const parsing = performance.now();
  const reader = await openGguf(await files.open(name, signal), name);
  const config = ggufModelConfig(reader.metadata, reader.tensors);
  contextLengthFor(config, options.contextLength); // a contextLength past the model or memory fails before any allocation
  const { tokenizer, chatTemplate } = ggufTokenizer(reader.metadata);
  if (tokenizer.vocabSize > config.V) {
    throw new GptError(
      'bad-config',
      `${name}: tokenizer.ggml.tokens has ${tokenizer.vocabSize} tokens but token_embd.weight only ${config.V} rows: the file is inconsistent. Hint: convert the model again.`,
    );
  }
  signal?.throwIfAborted();
  timings.since('parse', parsing);

  const created = await timings.time('backend', () => createBackend(config));
  const { backend, reason } = created;
  const notice = [created.notice, missingTemplateNotice(chatTemplate, name, tokenizer.specialTokens)].filter(Boolean).join(' ') || undefined;
  try {
    const fingerprint = new WeightsFingerprint();
    const { quantize } = options;
    // a GGUF's float matrices quantized on load make another model to a task head (see load-model.ts)
    if (quantize) fingerprint.add(`quantize ${quantize}`, quantize, [], new Uint8Array(0));
    const uploads = timedUploads(backend, timings);
    const storage = ggufStorage(config, reader, quantize);
    // Quantized on an earlier load (LoadOptions.keptWeights): those weights instead of the file's
    // tensors; and with something to quantize, the result kept for the next load (onKeepWeights).
    const kept = quantize && options.onKeepWeights && storage.quantizesOnLoad ? new KeptWeights() : undefined;
    const loadWeights = async (): Promise<{ weights: ModelWeights; config: ModelConfig; weightsHash: string }> => {
      if (quantize && options.keptWeights) {
        const keptReader = await openGguf(await options.keptWeights.open(signal), `${name} (weights kept as ${quantize})`);
        return loadKeptWeights(uploads, config, keptReader, quantize, { onProgress: options.onProgress, signal, storage });
      }
      const read = await loadGgufWeights(uploads, config, reader, { onProgress: options.onProgress, signal, fingerprint, quantize, ...(kept ? { keep: kept } : {}) });
      return { ...read, weightsHash: fingerprint.hex() };
    };
    const loaded = await timings.time('weights', loadWeights);
    // the weights' chunks passed their checks before the model runs at all (ModelFiles.verified)
    if (files.verified) await timings.time('readWait', () => files.verified!());
    const preparing = performance.now();
    const model = new GptModel(loaded.config, backend, loaded.weights, { contextLength: options.contextLength, prefillChunk: options.prefillChunk });
    await backend.flush(); // GPU memory exhaustion shows here, before the first reply (gpu-out-of-memory)
    await model.prepare(options.onPrepare);
    timings.since('prepare', preparing);
    if (kept && quantize) options.onKeepWeights?.(kept.file(quantize, loaded.weightsHash));
    return new LanguageModel(model, tokenizer, chatTemplate, tokenizer.eosTokenIds, files.location, notice, loaded.weightsHash, reason);
  } catch (err) {
    backend.destroy();
    throw err;
  }
}
