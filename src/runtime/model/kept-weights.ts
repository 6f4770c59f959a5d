import type { Backend, Weight, WeightDType } from '../backend.ts';
import { GptError } from '../../errors.ts';
import { GGML_LAYOUTS, type GgmlTypeName } from '../../formats/ggml-types.ts';
import type { GgufReader } from '../../formats/gguf.ts';
import { ggufLayout } from '../../formats/gguf-write.ts';
import type { LoadProgress } from '../../formats/model-files.ts';
import { DTYPE_BYTES } from '../dtype.ts';
import { isQuantDType, quantRowBytes, quantWriteAt } from '../quant/quant-dtype.ts';
import type { ModelConfig } from './config.ts';
import { withRopeFactors } from './gguf-config.ts';
import { quantizedDType, type QuantizeOnLoad } from './quantize-on-load.ts';
import { assembleWeights, tensorPlan } from './tensor-names.ts';
import type { ModelWeights } from './weights.ts';
import { WeightProgress } from './weight-progress.ts';

/**
 * A model's weights as the backend holds them after quantize on load, kept as one GGUF file so the
 * next load reads those bytes (a quarter to an eighth of f32's) instead of the checkpoint and skips
 * quantizing. One tensor per canonical weight (weights.ts), named by its key (`layers.3.wqkv`),
 * already fused, transposed and quantized; the metadata says what it is:
 *
 *   general.architecture     "gpt-chat-weights" (not a model: no tokenizer, no config)
 *   gpt-chat.version         1
 *   gpt-chat.quantize        "q8_0" | "q4_0"
 *   gpt-chat.weights_hash    the checkpoint's WeightsFingerprint, so task heads still match
 *   gpt-chat.tied_head       1 when the head is the embedding (a GGUF whose output.weight copies
 *                            token_embd.weight; absent otherwise)
 *
 * A GGUF source's weights are kept the same way: those it stores quantized as they are, its float
 * matrices quantized; its `rope_freqs.weight` (Llama 3.1 frequency factors, read into the config)
 * comes along as the f32 tensor `rope_freqs`.
 *
 * The runtime only writes and reads the file; where it is kept, and that it belongs to the same
 * checkpoint, is the caller's (the engine keys it in the cache by the checkpoint's chunk hashes).
 */

export const KEPT_ARCHITECTURE = 'gpt-chat-weights';
const VERSION = 1;
/** The tensor that holds a GGUF source's rope frequency factors. */
const ROPE_FACTORS = 'rope_freqs';

const TYPE_ID: ReadonlyMap<GgmlTypeName, number> = new Map([...GGML_LAYOUTS].map(([id, l]) => [l.name, id]));

/** The kept weights as a file: its size and its bytes, streamed in order. */
export interface KeptWeightsFile {
  readonly quantize: QuantizeOnLoad;
  readonly weightsHash: string;
  readonly size: number;
  chunks(): AsyncGenerator<Uint8Array>;
}

interface Held {
  readonly rows: number;
  readonly cols: number;
  readonly dtype: WeightDType;
  readonly bytes: Uint8Array;
}

/** Bytes of a (rows, cols) weight of `dtype`. */
function weightBytes(dtype: WeightDType, rows: number, cols: number, what: string): number {
  return isQuantDType(dtype) ? rows * quantRowBytes(dtype, cols, what) : rows * cols * DTYPE_BYTES[dtype];
}

/**
 * Collects the bytes written into each weight during a load (a copy in JS memory, the size of the
 * quantized model, until {@link file}'s stream has been read).
 */
export class KeptWeights {
  readonly #held = new Map<string, Held>();
  #tied = false;

  /** The GGUF source's rope frequency factors, applied to the config (see the top of this module). */
  ropeFactors(factors: Float32Array): void {
    const bytes = new Uint8Array(factors.length * 4);
    new Float32Array(bytes.buffer).set(factors);
    this.#held.set(ROPE_FACTORS, { rows: 1, cols: factors.length, dtype: 'f32', bytes });
  }

  /** The head is the embedding: one matrix, kept as `tokEmb` whichever of the pair was held. */
  tie(): void {
    const head = this.#held.get('lmHead');
    if (head && !this.#held.has('tokEmb')) this.#held.set('tokEmb', head);
    this.#held.delete('lmHead');
    this.#tied = true;
  }

  /** What `backend.writeWeight(w, offset, bytes)` wrote into weight `key` (rows, cols, dtype). */
  write(key: string, rows: number, cols: number, dtype: WeightDType, offset: number, bytes: Uint8Array): void {
    let w = this.#held.get(key);
    if (!w) this.#held.set(key, (w = { rows, cols, dtype, bytes: new Uint8Array(weightBytes(dtype, rows, cols, key)) }));
    const at = isQuantDType(dtype) ? quantWriteAt(dtype, rows, cols, offset, bytes.length, key) : offset * DTYPE_BYTES[dtype];
    w.bytes.set(bytes, at);
  }

  /** The weights as a GGUF file (see the top of this module). */
  file(quantize: QuantizeOnLoad, weightsHash: string): KeptWeightsFile {
    const held = [...this.#held].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const layout = ggufLayout(
      [
        ['general.architecture', KEPT_ARCHITECTURE],
        ['gpt-chat.version', VERSION],
        ['gpt-chat.quantize', quantize],
        ['gpt-chat.weights_hash', weightsHash],
        ...(this.#tied ? [['gpt-chat.tied_head', 1] as const] : []),
      ],
      held.map(([name, w]) => ({ name, type: TYPE_ID.get(w.dtype)!, dims: [w.cols, w.rows] })),
    );
    return {
      quantize,
      weightsHash,
      size: layout.header.length + layout.dataBytes,
      async *chunks() {
        yield layout.header;
        let at = 0;
        for (const [i, [, w]] of held.entries()) {
          const pad = layout.offsets[i]! - at;
          if (pad > 0) yield new Uint8Array(pad);
          yield w.bytes;
          at = layout.offsets[i]! + w.bytes.length;
        }
        if (layout.dataBytes > at) yield new Uint8Array(layout.dataBytes - at);
      },
    };
  }
}

/** What {@link loadKeptWeights} gives: the weights, the fingerprint of the checkpoint they came from, and the config they fit. */
export interface LoadedKeptWeights {
  readonly weights: ModelWeights;
  readonly weightsHash: string;
  /** `cfg`, with the head tied and rope factors applied when the file says so (a GGUF source's). */
  readonly config: ModelConfig;
}

/**
 * Reads kept weights into `backend`: the file must be ours (metadata above), quantized to
 * `quantize`, and hold exactly the weights `cfg` implies, each of its shape and in the type quantize
 * on load gives it (floats for the ones it leaves). Anything else is GptError 'bad-gguf' naming what
 * differs, before any weight is created: the caller drops the file and loads the checkpoint.
 */
export async function loadKeptWeights(
  backend: Backend,
  cfg: ModelConfig,
  reader: GgufReader,
  quantize: QuantizeOnLoad,
  opts: {
    readonly onProgress?: (p: LoadProgress) => void;
    readonly signal?: AbortSignal;
    /** The dtype each weight must have, by key (a GGUF source's: see ggufStorage); default: what quantize on load gives a checkpoint's. */
    readonly storage?: ReadonlyMap<string, WeightDType>;
  } = {},
): Promise<LoadedKeptWeights> {
  const { file, metadata } = reader;
  const bad = (what: string) => new GptError('bad-gguf', `${file}: ${what}. Hint: the kept quantized weights are dropped and made again from the checkpoint.`);
  if (metadata.string('general.architecture', '') !== KEPT_ARCHITECTURE) throw bad(`general.architecture is not ${KEPT_ARCHITECTURE}`);
  const version = metadata.uint('gpt-chat.version', 0);
  if (version !== VERSION) throw bad(`gpt-chat.version is ${version}, this runtime reads ${VERSION}`);
  const kept = metadata.string('gpt-chat.quantize', '');
  if (kept !== quantize) throw bad(`its weights are quantized to ${kept || 'nothing'}, ${quantize} was asked for`);
  const weightsHash = metadata.string('gpt-chat.weights_hash', '');
  if (!/^[0-9a-f]{16}$/.test(weightsHash)) throw bad('gpt-chat.weights_hash is not 16 hex digits');

  const tied = metadata.uint('gpt-chat.tied_head', 0) === 1;
  if (tied) cfg = { ...cfg, tiedHead: true };
  const plan = tensorPlan(cfg);
  const byName = new Map(reader.tensors.map((t) => [t.name, t]));
  const rope = byName.get(ROPE_FACTORS);
  if (rope && (rope.layout.name !== 'f32' || cfg.position !== 'rope')) throw bad(`${ROPE_FACTORS} is ${rope.layout.name} for a model with ${cfg.position} positions`);
  if (byName.size !== plan.length + (rope ? 1 : 0)) throw bad(`it has ${byName.size} tensors, the model has ${plan.length} weights`);
  const byKey = new Map(plan.map((w) => [w.key, w]));
  for (const weight of plan) {
    const t = byName.get(weight.key);
    if (!t) throw bad(`weight ${weight.key} is missing`);
    if (t.shape.length !== 2 || t.shape[0] !== weight.rows || t.shape[1] !== weight.cols) {
      throw bad(`weight ${weight.key} has shape [${t.shape.join(', ')}], the model needs [${weight.rows}, ${weight.cols}]`);
    }
    const got = t.layout.name;
    const stored = opts.storage?.get(weight.key);
    if (stored !== undefined) {
      if (got !== stored) throw bad(`weight ${weight.key} is ${got}, the model holds it as ${stored}`);
      continue;
    }
    const want = quantizedDType(weight, quantize);
    if (want !== null ? got !== want : isQuantDType(got)) throw bad(`weight ${weight.key} is ${got}, quantize ${quantize} stores it as ${want ?? 'floats'}`);
  }

  const progress = new WeightProgress(opts.onProgress);
  progress.file = file;
  progress.total = reader.tensors.reduce((n, t) => Math.max(n, t.end), 0);
  progress.report();
  const created = new Map<string, Weight>();
  for await (const t of reader.tensorData({ signal: opts.signal, onBytes: progress.onBytes })) {
    progress.tensorDone();
    if (t.name === ROPE_FACTORS) {
      cfg = withRopeFactors(cfg, new Float32Array(t.bytes.slice().buffer), file);
      continue;
    }
    const weight = byKey.get(t.name)!;
    const w = backend.createWeight(weight.key, weight.rows, weight.cols, t.layout.name as WeightDType);
    backend.writeWeight(w, 0, t.bytes);
    created.set(weight.key, w);
  }
  progress.finish();
  return { weights: assembleWeights(cfg, created), weightsHash, config: cfg };
}
