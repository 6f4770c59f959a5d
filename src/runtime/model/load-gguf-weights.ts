import type { Backend, FloatDType, Weight, WeightDType } from '../backend.ts';
import { GptError } from '../../errors.ts';
import type { GgmlTypeName } from '../../formats/ggml-types.ts';
import type { GgufReader, GgufTensorInfo } from '../../formats/gguf.ts';
import { dequantize } from '../quant/dequantize.ts';
import type { ModelConfig } from './config.ts';
import { convertDType } from './convert-dtype.ts';
import { withRopeFactors } from './gguf-config.ts';
import { ggufTensorPlan, unpermuteRopeRows } from './gguf-tensor-names.ts';
import type { LoadWeightsOptions } from './load-weights.ts';
import { assembleWeights, type TensorPart, type WeightPlan } from './tensor-names.ts';
import type { ModelWeights } from './weights.ts';

/** Bytes between two progress reports inside one tensor. */
const PROGRESS_STEP = 1 << 20;

/**
 * How a tensor of each ggml type is held by the backend. Quantized types are dequantized at load
 * into f16 until the backends keep them quantized: half the memory of f32, and f16's rounding
 * (2^-11 relative) is far below the quantization error itself (Q8_0 ~2^-8, Q4 ~2^-4).
 */
const STORAGE: Readonly<Record<GgmlTypeName, WeightDType>> = {
  f32: 'f32', f16: 'f16', bf16: 'bf16', q8_0: 'f16', q4_0: 'f16', q4_k: 'f16', q6_k: 'f16',
};

/** The weights of a GGUF model, and its config with `rope_freqs.weight` applied when the file has it. */
export interface LoadedGgufWeights {
  readonly weights: ModelWeights;
  readonly config: ModelConfig;
}

/**
 * Streams the tensors of a GGUF file into backend weights in the canonical layout of weights.ts,
 * one tensor in memory at a time: every tensor `cfg` implies must be in the table with the implied
 * shape (GptError 'missing-tensor', 'bad-tensor-shape', checked before the first byte is read);
 * llama's q/k rows are put back in Hugging Face order; quantized tensors are dequantized.
 * Tensors the architecture does not use are skipped.
 */
export async function loadGgufWeights(backend: Backend, cfg: ModelConfig, reader: GgufReader, opts: LoadWeightsOptions = {}): Promise<LoadedGgufWeights> {
  const { signal, onProgress } = opts;
  const file = reader.file;
  const { weights: plan, ropeHeads } = ggufTensorPlan(cfg);
  const targets = new Map<string, { weight: WeightPlan; part: TensorPart }>();
  for (const weight of plan) for (const part of weight.parts) targets.set(part.names[0]!, { weight, part });
  const byName = new Map(reader.tensors.map((t) => [t.name, t]));
  for (const [name, { part, weight }] of targets) {
    const t = byName.get(name);
    if (!t) {
      const why = weight.key === 'lmHead' ? 'it has no output.weight so the head would be tied, yet' : `${cfg.modelType} with ${cfg.L} layers needs it;`;
      throw new GptError('missing-tensor', `${file} has no tensor ${name}: ${why} the file is incomplete. Hint: download the file again.`);
    }
    checkShape(t, part, file, cfg);
  }

  const total = reader.tensors.reduce((n, t) => Math.max(n, t.end), 0);
  let loaded = 0;
  let reported = -1;
  const report = () => {
    reported = loaded;
    onProgress?.({ file, loaded, total: Math.max(total, loaded) });
  };
  const onBytes = (n: number) => {
    loaded += n;
    if (loaded - reported >= PROGRESS_STEP) report();
  };
  report();
  const created = new Map<string, Weight>();
  let config = cfg;
  for await (const t of reader.tensorData({ signal, onBytes })) {
    if (loaded !== reported) report();
    if (t.name === 'rope_freqs.weight' && cfg.position === 'rope') {
      if (t.layout.name !== 'f32') throw new GptError('unsupported-dtype', `${file}: rope_freqs.weight is ${t.layout.name}; llama.cpp writes it as f32.`);
      config = withRopeFactors(cfg, new Float32Array(t.bytes.buffer, t.bytes.byteOffset, t.bytes.byteLength / 4), file);
      continue;
    }
    const target = targets.get(t.name);
    if (!target) continue;
    const { weight, part } = target;
    opts.fingerprint?.add(t.name, t.layout.name, part.shape, t.bytes);
    let bytes = t.bytes;
    const heads = ropeHeads.get(t.name);
    if (heads !== undefined) bytes = unpermuteRopeRows(bytes, heads, bytes.byteLength / part.shape[0]!);
    const stored = STORAGE[t.layout.name];
    let w = created.get(weight.key);
    if (!w) {
      w = backend.createWeight(weight.key, weight.rows, weight.cols, stored);
      created.set(weight.key, w);
    }
    const elements = part.shape.reduce((a, b) => a * b, 1);
    if (stored !== t.layout.name) {
      const values = dequantize(t.layout.name, bytes, elements, `${file} tensor ${t.name}`);
      bytes = convertDType(new Uint8Array(values.buffer), 'f32', w.dtype as FloatDType);
    } else {
      bytes = convertDType(bytes, stored as FloatDType, w.dtype as FloatDType);
    }
    backend.writeWeight(w, part.offset, bytes);
  }
  onProgress?.({ file, loaded, total: loaded });
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
