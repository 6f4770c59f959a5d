import type { Backend, FloatDType, Weight, WeightDType } from '../backend.ts';
import { GptError } from '../../errors.ts';
import type { GgmlTypeName } from '../../formats/ggml-types.ts';
import type { GgufReader, GgufTensorInfo } from '../../formats/gguf.ts';
import { dequantize } from '../quant/dequantize.ts';
import { isQuantDType } from '../quant/quant-dtype.ts';
import { quantizedDType, quantizeRows, type QuantizeOnLoad } from './quantize-on-load.ts';
import type { ModelConfig } from './config.ts';
import { convertDType } from './convert-dtype.ts';
import { CopiedHeadCheck } from './copied-head.ts';
import { withRopeFactors } from './gguf-config.ts';
import { ggufTensorPlan, unpermuteRopeRows } from './gguf-tensor-names.ts';
import type { LoadWeightsOptions } from './load-weights.ts';
import { assembleWeights, type TensorPart, type WeightPlan } from './tensor-names.ts';
import type { ModelWeights } from './weights.ts';
import { WeightProgress } from './weight-progress.ts';

/** Bytes between two progress reports inside one tensor. */

/**
 * The dtype a canonical weight is held in, from the ggml types of its tensors. A matrix whose
 * tensors share one type keeps it: quantized ones stay ggml blocks in the backend, read in place by
 * the quantized kernels. A fused weight that mixes a quantized type with another (Q4_K_M files
 * store attn_v in Q6_K beside Q4_K attn_q and attn_k; the backends hold one type per weight) is
 * dequantized into f16: half of f32's memory, and f16's rounding (2^-11 relative) is far below
 * the quantization error itself. A vector is read as floats by the norms and biases, so a
 * quantized one becomes f32. Float matrices may be quantized on load (`quantize`), as in
 * load-weights.ts.
 */
function storageOf(weight: WeightPlan, types: readonly GgmlTypeName[], quantize: QuantizeOnLoad | undefined): WeightDType {
  const first = types[0]!;
  if (weight.rows === 1) return isQuantDType(first) ? 'f32' : first;
  if (types.every((t) => t === first) && isQuantDType(first)) return first;
  if (types.some(isQuantDType)) return 'f16';
  return quantizedDType(weight, quantize) ?? first;
}

/**
 * The dtype each canonical weight of a GGUF model is held in (see storageOf), by weight key, and
 * whether `quantize` converts any of its float matrices (else quantize on load changes nothing).
 */
export function ggufStorage(cfg: ModelConfig, reader: GgufReader, quantize: QuantizeOnLoad | undefined): Map<string, WeightDType> & { readonly quantizesOnLoad: boolean } {
  const byName = new Map(reader.tensors.map((t) => [t.name, t]));
  const storage = new Map<string, WeightDType>(); // weight key -> the dtype it is held in
  let quantizesOnLoad = false;
  for (const weight of ggufTensorPlan(cfg).weights) {
    const types = weight.parts.map((p) => byName.get(p.names[0]!)?.layout.name ?? 'f32');
    const to = storageOf(weight, types, quantize);
    if (isQuantDType(to) && types.some((t) => !isQuantDType(t))) quantizesOnLoad = true;
    storage.set(weight.key, to);
  }
  return Object.assign(storage, { quantizesOnLoad });
}

/** The weights of a GGUF model, and its config with `rope_freqs.weight` applied when the file has it. */
export interface LoadedGgufWeights {
  readonly weights: ModelWeights;
  readonly config: ModelConfig;
}

/**
 * Streams the tensors of a GGUF file into backend weights in the canonical layout of weights.ts,
 * one tensor in memory at a time: every tensor `cfg` implies must be in the table with the implied
 * shape (GptError 'missing-tensor', 'bad-tensor-shape', checked before the first byte is read);
 * llama's q/k rows are put back in Hugging Face order; quantized tensors stay quantized (see
 * storageOf). An output.weight that copies token_embd.weight byte for byte (llama.cpp's GPT-2
 * converter writes one) is not stored: the head is tied to the embedding, one matrix as the Hugging
 * Face folder holds it, and the config returned says so (see copied-head.ts).
 * Tensors the architecture does not use are skipped.
 */
export async function loadGgufWeights(backend: Backend, cfg: ModelConfig, reader: GgufReader, opts: LoadWeightsOptions = {}): Promise<LoadedGgufWeights> {
  const { signal, onProgress } = opts;
  const file = reader.file;
  const { weights: plan, ropeHeads } = ggufTensorPlan(cfg);
  const targets = new Map<string, { weight: WeightPlan; part: TensorPart }>();
  for (const weight of plan) for (const part of weight.parts) targets.set(part.names[0]!, { weight, part });
  const byName = new Map(reader.tensors.map((t) => [t.name, t]));
  const storage = ggufStorage(cfg, reader, opts.quantize);
  for (const [name, { part, weight }] of targets) {
    const t = byName.get(name);
    if (!t) {
      const why = weight.key === 'lmHead' ? 'it has no output.weight so the head would be tied, yet' : `${cfg.modelType} with ${cfg.L} layers needs it;`;
      throw new GptError('missing-tensor', `${file} has no tensor ${name}: ${why} the file is incomplete. Hint: download the file again.`);
    }
    checkShape(t, part, file, cfg);
  }

  const total = reader.tensors.reduce((n, t) => Math.max(n, t.end), 0);
  const progress = new WeightProgress(onProgress);
  progress.file = file;
  progress.total = total;
  progress.report();
  const created = new Map<string, Weight>();
  const copiedHead = cfg.tiedHead ? null : new CopiedHeadCheck(reader.tensors);
  let tied = false;
  let config = cfg;
  for await (const t of reader.tensorData({ signal, onBytes: progress.onBytes })) {
    progress.tensorDone();
    if (t.name === 'rope_freqs.weight' && cfg.position === 'rope') {
      if (t.layout.name !== 'f32') throw new GptError('unsupported-dtype', `${file}: rope_freqs.weight is ${t.layout.name}; llama.cpp writes it as f32.`);
      const factors = new Float32Array(t.bytes.buffer, t.bytes.byteOffset, t.bytes.byteLength / 4);
      config = withRopeFactors(cfg, factors, file);
      opts.keep?.ropeFactors(factors);
      continue;
    }
    const target = targets.get(t.name);
    if (!target) continue;
    const { weight, part } = target;
    opts.fingerprint?.add(t.name, t.layout.name, part.shape, t.bytes);
    if (copiedHead?.isCopy(t.name, t.bytes)) {
      tied = true; // the other of the pair is held already, under its own key
      continue;
    }
    let bytes = t.bytes;
    const heads = ropeHeads.get(t.name);
    if (heads !== undefined) bytes = unpermuteRopeRows(bytes, heads, bytes.byteLength / part.shape[0]!);
    const to = storage.get(weight.key)!;
    let w = created.get(weight.key);
    if (!w) {
      w = backend.createWeight(weight.key, weight.rows, weight.cols, to);
      created.set(weight.key, w);
    }
    const from = t.layout.name;
    const what = `${file} tensor ${t.name}`;
    const elements = part.shape.reduce((a, b) => a * b, 1);
    if (from === to) {
      // as stored: raw ggml blocks for a quantized weight, raw elements for a float one
    } else if (isQuantDType(to)) {
      bytes = quantizeRows(bytes, from as FloatDType, elements / weight.cols, weight.cols, to, what);
    } else if (isQuantDType(from)) {
      bytes = convertDType(new Uint8Array(dequantize(from, bytes, elements, what).buffer), 'f32', to);
    } else {
      bytes = convertDType(bytes, from, to);
    }
    backend.writeWeight(w, part.offset, bytes);
    opts.keep?.write(weight.key, weight.rows, weight.cols, to, part.offset, bytes);
  }
  progress.finish();
  if (tied) {
    opts.keep?.tie();
    const held = created.get('tokEmb') ?? created.get('lmHead')!;
    created.set('tokEmb', held).delete('lmHead');
    config = { ...config, tiedHead: true };
  }
  return { weights: assembleWeights(config, created), config };
}

function checkShape(t: GgufTensorInfo, part: TensorPart, file: string, cfg: ModelConfig): void {
  const want = part.shape;
  const got = t.shape;
  if (got.length === want.length && got.every((d, i) => d === want[i])) return;
  throw new GptError(
    'bad-tensor-shape',
    `${file}: tensor ${t.name} has shape [${got.join(', ')}] but the metadata (${cfg.modelType}) implies [${want.join(', ')}] ${part.impliedBy}. ` +
      `Hint: the file's metadata and tensors disagree; convert the model again with a current llama.cpp.`,
  );
}
