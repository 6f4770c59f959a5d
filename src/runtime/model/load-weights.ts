import type { Backend, FloatDType, Weight } from '../backend.ts';
import { GptError } from '../../errors.ts';
import type { LoadProgress, ModelFiles } from '../../formats/model-files.ts';
import { openSafetensors, parseSafetensorsIndex, type SafetensorsDType, type TensorInfo } from '../../formats/safetensors.ts';
import type { ModelConfig } from './config.ts';
import { DTYPE_BYTES } from '../dtype.ts';
import { convertDType, transposeBytes } from './convert-dtype.ts';
import { quantizedDType, quantizeRows, type QuantizeOnLoad } from './quantize-on-load.ts';
import { assembleWeights, tensorPlan, type TensorPart, type WeightPlan } from './tensor-names.ts';
import type { ModelWeights } from './weights.ts';
import type { KeptWeights } from './kept-weights.ts';
import type { WeightsFingerprint } from './weights-fingerprint.ts';
import { WeightProgress } from './weight-progress.ts';

/** Options of {@link loadWeights}. */
export interface LoadWeightsOptions {
  /** Called as weight bytes stream in: `loaded` / `total` count tensor data bytes over all files. */
  readonly onProgress?: (p: LoadProgress) => void;
  /** Checked between tensors (and passed to the file reads); aborting throws GptError 'aborted'. */
  readonly signal?: AbortSignal;
  /** Fed every tensor the model uses, as stored in the file (see weights-fingerprint.ts). */
  readonly fingerprint?: WeightsFingerprint;
  /**
   * Store the matrices as Q8_0 or Q4_0 blocks, quantized as they stream in (see
   * quantize-on-load.ts for which ones); unset, every weight keeps the checkpoint's dtype.
   */
  readonly quantize?: QuantizeOnLoad;
  /** Given a copy of every byte written into the backend, as written (see kept-weights.ts). */
  readonly keep?: KeptWeights;
}

const SINGLE = 'model.safetensors';
const INDEX = 'model.safetensors.index.json';
/** Bytes between two progress reports inside one tensor. */
const WEIGHT_DTYPE: Readonly<Record<SafetensorsDType, FloatDType>> = { F32: 'f32', F16: 'f16', BF16: 'bf16' };

/** Where a checkpoint tensor goes: its canonical weight and the part of it. */
interface Target {
  readonly weight: WeightPlan;
  readonly part: TensorPart;
}

/**
 * Streams the checkpoint of a model folder (model.safetensors, or model.safetensors.index.json and
 * its shards) into backend weights in the canonical layout of weights.ts, one tensor in memory at a
 * time. Each weight takes the dtype of the first of its tensors to arrive; other parts of a fused
 * weight are converted to it. Every tensor `cfg` implies must be present with the implied shape
 * (GptError 'missing-tensor', 'bad-tensor-shape'); tensors the architecture does not use are
 * ignored (rotary_emb.inv_freq, GPT-2's attn.bias masks, a tied lm_head). With `quantize`, the
 * matrices are quantized part by part (whole rows) before they are written.
 */
export async function loadWeights(backend: Backend, cfg: ModelConfig, files: ModelFiles, opts: LoadWeightsOptions = {}): Promise<ModelWeights> {
  const { signal, onProgress } = opts;
  const plan = tensorPlan(cfg);
  const targets = new Map<string, Target>();
  for (const weight of plan) for (const part of weight.parts) for (const name of part.names) targets.set(name, { weight, part });

  // ---- which files hold the checkpoint ----
  let fileNames: readonly string[];
  let total = 0;
  let totalKnown = false;
  if (await files.has(SINGLE)) {
    fileNames = [SINGLE];
  } else if (await files.has(INDEX)) {
    const index = parseSafetensorsIndex(await files.text(INDEX), INDEX);
    checkAllPresent(plan, (name) => index.weightMap.has(name), INDEX, cfg);
    fileNames = index.files;
    if (index.totalSize !== null) {
      total = index.totalSize;
      totalKnown = true;
    }
  } else {
    throw new GptError(
      'file-missing',
      `${files.location} has neither ${SINGLE} nor ${INDEX}. Hint: the folder needs the weights in safetensors format (convert .bin/.pt checkpoints with save_pretrained(safe_serialization=True)).`,
    );
  }

  // ---- stream every file, tensor by tensor, into the weights ----
  const created = new Map<string, Weight>();
  const written = new Set<TensorPart>();
  const progress = new WeightProgress(onProgress);
  for (const file of fileNames) {
    throwIfAborted(signal, file);
    const reader = await openSafetensors(await files.open(file, signal), file);
    const tensors = reader.header.tensors;
    if (file === SINGLE) checkAllPresent(plan, (name) => tensors.some((t) => t.name === name), file, cfg);
    const fileBytes = tensors.reduce((n, t) => Math.max(n, t.end), 0);
    if (!totalKnown) total += fileBytes;
    // Validate every shape of this file before its first byte is written.
    for (const t of tensors) {
      const target = targets.get(t.name);
      if (target) checkShape(t, target, file, cfg);
    }
    progress.file = file;
    progress.total = total;
    progress.report();
    for await (const t of reader.tensors({ signal, onBytes: progress.onBytes })) {
      const target = targets.get(t.name);
      progress.tensorDone();
      if (!target || written.has(target.part)) continue; // unused, or already read under its other name
      const { weight, part } = target;
      opts.fingerprint?.add(t.name, t.dtype, t.shape, t.bytes);
      const dtype = WEIGHT_DTYPE[t.dtype];
      const quantized = quantizedDType(weight, opts.quantize);
      let w = created.get(weight.key);
      if (!w) {
        w = backend.createWeight(weight.key, weight.rows, weight.cols, quantized ?? dtype);
        created.set(weight.key, w);
      }
      if (quantized === null) {
        // every part of a float weight goes in the dtype of its first part
        const to = w.dtype as FloatDType;
        let bytes = convertDType(t.bytes, dtype, to);
        if (part.transpose) bytes = transposeBytes(bytes, part.shape[0], part.shape[1], DTYPE_BYTES[to]);
        backend.writeWeight(w, part.offset, bytes);
        opts.keep?.write(weight.key, weight.rows, weight.cols, to, part.offset, bytes);
      } else {
        // transposed in the checkpoint's dtype, then quantized row by row
        const bytes = part.transpose ? transposeBytes(t.bytes, part.shape[0], part.shape[1], DTYPE_BYTES[dtype]) : t.bytes;
        const rows = bytes.length / DTYPE_BYTES[dtype] / weight.cols;
        const blocks = quantizeRows(bytes, dtype, rows, weight.cols, quantized, `${file}: ${t.name}`);
        backend.writeWeight(w, part.offset, blocks);
        opts.keep?.write(weight.key, weight.rows, weight.cols, quantized, part.offset, blocks);
      }
      written.add(part);
    }
  }
  progress.finish();

  // An index that names the wrong shard for a tensor leaves a part unwritten.
  for (const weight of plan) {
    for (const part of weight.parts) {
      if (!written.has(part)) {
        throw new GptError(
          'missing-tensor',
          `Tensor ${part.names[0]} was not found in ${fileNames.join(', ')}${fileNames[0] !== SINGLE ? ` although ${INDEX} lists it` : ''}. ` +
            `Hint: the checkpoint is incomplete; download it again.`,
        );
      }
    }
  }
  return assembleWeights(cfg, created);
}

function throwIfAborted(signal: AbortSignal | undefined, file: string): void {
  if (signal?.aborted) throw new GptError('aborted', `Loading ${file} was aborted.`);
}

function checkAllPresent(plan: readonly WeightPlan[], has: (name: string) => boolean, file: string, cfg: ModelConfig): void {
  for (const weight of plan) {
    for (const part of weight.parts) {
      if (part.names.some(has)) continue;
      const also = part.names.length > 1 ? ` (nor ${part.names.slice(1).join(', ')})` : '';
      const why =
        weight.key === 'lmHead'
          ? ' config.json sets tie_word_embeddings false, so the checkpoint needs its own output head.'
          : ` config.json (model_type ${cfg.modelType}, ${cfg.L} layers) implies it.`;
      throw new GptError(
        'missing-tensor',
        `${file} has no tensor ${part.names[0]}${also};${why} Hint: check that config.json and the weights come from the same checkpoint.`,
      );
    }
  }
}

function checkShape(t: TensorInfo, target: Target, file: string, cfg: ModelConfig): void {
  const want = target.part.shape;
  const got = t.shape;
  if (got.length === want.length && got.every((d, i) => d === want[i])) return;
  if (target.part.vocabRows && got.length === 2 && got[1] === want[1] && got[0] !== want[0]) {
    throw new GptError(
      'bad-tensor-shape',
      `config.json vocab_size ${cfg.V} but ${t.name} has ${got[0]} rows (in ${file}). ` +
        `Hint: config.json and the weights come from different checkpoints; use the config.json published with these weights.`,
    );
  }
  throw new GptError(
    'bad-tensor-shape',
    `${file}: tensor ${t.name} has shape [${got.join(', ')}] but config.json implies [${want.join(', ')}] ${target.part.impliedBy}. ` +
      `Hint: check that config.json and the weights come from the same checkpoint.`,
  );
}
