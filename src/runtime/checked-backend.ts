import type { Activation, Backend, KvCache, Weight, WeightDType } from './backend.ts';
import { GptError, type GptErrorCode } from '../errors.ts';
import type { ModelConfig } from './model/config.ts';
import type { Sampler } from './sampler.ts';
import { DTYPE_BYTES } from './dtype.ts';
import { isQuantDType, QUANT_DTYPES, quantRowBytes, quantWriteAt } from './quant/quant-dtype.ts';

/**
 * `inner` behind the argument checks of the {@link Backend} contract: every op is validated here,
 * once, before the backend runs it, so a backend holds only its work and a new one gets the checks
 * for free. {@link createBackend} hands out checked backends; tests wrap their own.
 */
export function checkedBackend<B extends Backend>(inner: B): CheckedBackend<B> {
  return new CheckedBackend(inner);
}

/**
 * A {@link Backend} that checks each call against the contract written in backend.ts and forwards
 * it to `inner`. One rule per fault, one error code per rule: a wrong shape, count or foreign
 * tensor is 'bad-argument' naming the op, the argument and what was expected; positions past the
 * context are 'context-overflow'; a config the ops cannot run is 'bad-config'; use after
 * destroy() is 'disposed'. What only one backend cannot do (a GPU's binding limits, a lost
 * device) stays with that backend.
 *
 * The checks are a few comparisons and one WeakSet lookup per argument, and build no string or
 * array unless they fail: they run for every op of every token.
 */
export class CheckedBackend<B extends Backend = Backend> implements Backend {
  readonly kind: Backend['kind'];
  // every weight, activation and KV cache `inner` created through this wrapper
  private readonly made = new WeakSet<object>();
  private destroyed = false;

  constructor(readonly inner: B) {
    this.kind = inner.kind;
  }

  get bytesAllocated(): number {
    return this.inner.bytesAllocated;
  }

  // ---- allocation ----

  createWeight(name: string, rows: number, cols: number, dtype: WeightDType): Weight {
    this.alive();
    const quantized = isQuantDType(dtype);
    if (!quantized && !Object.prototype.hasOwnProperty.call(DTYPE_BYTES, dtype)) {
      const known = [...Object.keys(DTYPE_BYTES), ...QUANT_DTYPES].join(', ');
      fail('unsupported-dtype', `createWeight '${name}': dtype '${String(dtype)}' is not one of ${known}. Hint: convert the checkpoint to one of those.`);
    }
    positive(`createWeight '${name}'`, rows, cols);
    if (quantized) quantRowBytes(dtype, cols, `createWeight '${name}'`); // rows must be whole blocks
    return this.own(this.inner.createWeight(name, rows, cols, dtype));
  }

  writeWeight(w: Weight, offset: number, bytes: Uint8Array): void {
    this.alive();
    this.mine('writeWeight', 'w', w);
    const what = `writeWeight '${w.name}' (${w.rows}x${w.cols} ${w.dtype})`;
    if (isQuantDType(w.dtype)) {
      quantWriteAt(w.dtype, w.rows, w.cols, offset, bytes.length, what);
      this.inner.writeWeight(w, offset, bytes);
      return;
    }
    const size = DTYPE_BYTES[w.dtype];
    if (bytes.length % size !== 0) {
      fail('bad-argument', `${what}: got ${bytes.length} bytes, not a whole number of ${w.dtype} elements (${size} bytes each). Hint: split the stream on element boundaries and carry the remainder into the next write.`);
    }
    const n = bytes.length / size;
    if (!(Number.isInteger(offset) && offset >= 0 && offset + n <= w.rows * w.cols)) {
      fail('bad-tensor-shape', `${what}: writing ${n} elements at element ${offset} overruns its ${w.rows * w.cols} elements. Hint: the tensor in the file is larger than the shape the config implies; check config.json against the checkpoint.`);
    }
    this.inner.writeWeight(w, offset, bytes);
  }

  createActivation(rows: number, cols: number): Activation {
    this.alive();
    positive('createActivation', rows, cols);
    return this.own(this.inner.createActivation(rows, cols));
  }

  createKvCache(L: number, S: number, width: number): KvCache {
    this.alive();
    positive('createKvCache', L, S);
    positive('createKvCache', S, width);
    return this.own(this.inner.createKvCache(L, S, width));
  }

  // ---- ops ----

  embed(out: Activation, ids: Int32Array, T: number, tokEmb: Weight, posEmb: Weight | null, pos0: number): void {
    this.alive();
    this.mine('embed', 'out', out);
    this.mine('embed', 'tokEmb', tokEmb);
    const C = tokEmb.cols;
    const V = tokEmb.rows;
    width('embed', 'out', out, C, `C of '${tokEmb.name}'`);
    rowsFit('embed', 'out', out, T);
    position('embed', pos0);
    if (ids.length < T) fail('bad-argument', `embed: ids has ${ids.length} entries, fewer than T = ${T}.`);
    for (let t = 0; t < T; t++) {
      const id = ids[t];
      if (!(id >= 0 && id < V)) {
        fail('bad-argument', `embed: token id ${id} at row ${t} is outside the vocabulary of '${tokEmb.name}' (0 .. ${V - 1}). Hint: the tokenizer does not match the model.`);
      }
    }
    if (posEmb !== null) {
      this.mine('embed', 'posEmb', posEmb);
      if (posEmb.cols !== C) fail('bad-argument', `embed: position table '${posEmb.name}' has ${posEmb.cols} columns, expected C = ${C} like '${tokEmb.name}'.`);
      if (pos0 + T > posEmb.rows) {
        fail('context-overflow', `embed: positions ${pos0} .. ${pos0 + T - 1} are past the ${posEmb.rows} learned positions of '${posEmb.name}'. Hint: shorten the conversation or start a new one.`);
      }
    }
    this.inner.embed(out, ids, T, tokEmb, posEmb, pos0);
  }

  layerNorm(out: Activation, inp: Activation, weight: Weight, bias: Weight, T: number, eps: number): void {
    this.rowwise('layerNorm', out, inp, T);
    this.vector('layerNorm', weight, inp.cols);
    this.vector('layerNorm', bias, inp.cols);
    this.inner.layerNorm(out, inp, weight, bias, T, eps);
  }

  rmsNorm(out: Activation, inp: Activation, weight: Weight, T: number, eps: number): void {
    this.rowwise('rmsNorm', out, inp, T);
    this.vector('rmsNorm', weight, inp.cols);
    this.inner.rmsNorm(out, inp, weight, T, eps);
  }

  addNorm(out: Activation, x: Activation, inp: Activation, weight: Weight, bias: Weight | null, T: number, eps: number): void {
    this.rowwise('addNorm', x, inp, T);
    this.rowwise('addNorm', out, x, T);
    distinct('addNorm', out, inp);
    this.vector('addNorm', weight, x.cols);
    if (bias !== null) this.vector('addNorm', bias, x.cols);
    this.inner.addNorm(out, x, inp, weight, bias, T, eps);
  }

  matmul(out: Activation, inp: Activation, w: Weight, bias: Weight | null, T: number): void {
    this.alive();
    this.mine('matmul', 'w', w);
    this.mine('matmul', 'out', out);
    this.mine('matmul', 'inp', inp);
    const O = w.rows;
    const I = w.cols;
    if (inp.cols !== I) fail('bad-argument', `matmul: inp has ${inp.cols} columns but '${w.name}' (${O}x${I}) expects ${I} inputs.`);
    if (out.cols !== O) fail('bad-argument', `matmul: out has ${out.cols} columns but '${w.name}' (${O}x${I}) has ${O} outputs.`);
    rowsFit('matmul', 'inp', inp, T);
    rowsFit('matmul', 'out', out, T);
    distinct('matmul', out, inp);
    if (bias !== null) this.vector('matmul', bias, O);
    this.inner.matmul(out, inp, w, bias, T);
  }

  attention(out: Activation, qkv: Activation, kv: KvCache, layer: number, T: number, pos0: number, cfg: ModelConfig): void {
    this.alive();
    this.mine('attention', 'out', out);
    this.mine('attention', 'qkv', qkv);
    this.mine('attention', 'kv', kv);
    const { H, Hkv, D } = cfg;
    if (!(Hkv > 0 && H % Hkv === 0)) {
      fail('bad-config', `attention: H = ${H} query heads is not a multiple of Hkv = ${Hkv} key/value heads. Hint: check num_key_value_heads in config.json.`);
    }
    width('attention', 'qkv', qkv, (H + 2 * Hkv) * D, '(H + 2 Hkv) D');
    width('attention', 'out', out, H * D, 'H D');
    if (kv.width !== Hkv * D) fail('bad-argument', `attention: the KV cache rows hold ${kv.width} floats, expected Hkv D = ${Hkv * D}.`);
    if (!(Number.isInteger(layer) && layer >= 0 && layer < kv.L)) fail('bad-argument', `attention: layer ${layer} is outside the KV cache's layers 0 .. ${kv.L - 1}.`);
    rowsFit('attention', 'qkv', qkv, T);
    rowsFit('attention', 'out', out, T);
    distinct('attention', out, qkv);
    position('attention', pos0);
    if (pos0 + T > kv.S) {
      fail('context-overflow', `attention: positions ${pos0} .. ${pos0 + T - 1} do not fit the context window of ${kv.S} tokens. Hint: shorten the conversation or start a new one.`);
    }
    if (cfg.position === 'rope' && !(D % 2 === 0 && cfg.ropeInvFreq.length === D / 2)) {
      fail('bad-config', `attention: ropeInvFreq has ${cfg.ropeInvFreq.length} entries for a head size D = ${D}, expected D/2. Hint: RoPE needs an even head size D.`);
    }
    this.inner.attention(out, qkv, kv, layer, T, pos0, cfg);
  }

  gelu(out: Activation, inp: Activation, T: number): void {
    this.rowwise('gelu', out, inp, T);
    this.inner.gelu(out, inp, T);
  }

  swiglu(out: Activation, inp: Activation, w: Weight, scratch: Activation, T: number): void {
    this.alive();
    this.mine('swiglu', 'out', out);
    this.mine('swiglu', 'inp', inp);
    this.mine('swiglu', 'w', w);
    this.mine('swiglu', 'scratch', scratch);
    const F = out.cols;
    if (w.rows !== 2 * F) fail('bad-argument', `swiglu: '${w.name}' has ${w.rows} rows, expected 2F = ${2 * F} ([gate | up] for out's ${F} columns).`);
    if (inp.cols !== w.cols) fail('bad-argument', `swiglu: inp has ${inp.cols} columns but '${w.name}' (${w.rows}x${w.cols}) expects ${w.cols} inputs.`);
    width('swiglu', 'scratch', scratch, 2 * F, "2F, twice out's ([gate | up])");
    rowsFit('swiglu', 'inp', inp, T);
    rowsFit('swiglu', 'out', out, T);
    rowsFit('swiglu', 'scratch', scratch, T);
    distinct('swiglu', out, inp);
    if (scratch === out || scratch === inp) fail('bad-argument', 'swiglu: scratch is out or inp; pass a third activation.');
    this.inner.swiglu(out, inp, w, scratch, T);
  }

  addInPlace(out: Activation, inp: Activation, T: number): void {
    this.rowwise('addInPlace', out, inp, T);
    this.inner.addInPlace(out, inp, T);
  }

  copyRows(out: Activation, inp: Activation, srcRow: number, n: number): void {
    this.alive();
    this.mine('copyRows', 'out', out);
    this.mine('copyRows', 'inp', inp);
    width('copyRows', 'out', out, inp.cols, "inp's");
    rowsFit('copyRows', 'out', out, n);
    if (!(Number.isInteger(srcRow) && srcRow >= 0 && srcRow + n <= inp.rows)) {
      fail('bad-argument', `copyRows: rows ${srcRow} .. ${srcRow + n - 1} are outside inp's ${inp.rows} rows.`);
    }
    distinct('copyRows', out, inp);
    this.inner.copyRows(out, inp, srcRow, n);
  }

  // ---- results ----

  read(act: Activation, rows: number, into: Float32Array): Promise<void> {
    try {
      this.alive();
      this.mine('read', 'act', act);
      rowsFit('read', 'act', act, rows);
      const n = rows * act.cols;
      if (into.length < n) fail('bad-argument', `read: 'into' holds ${into.length} floats, ${rows} rows of ${act.cols} need ${n}.`);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.inner.read(act, rows, into);
  }

  readArgmax(act: Activation): Promise<{ index: number; value: number }> {
    try {
      this.alive();
      this.mine('readArgmax', 'act', act);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.inner.readArgmax(act);
  }

  readSample(act: Activation, sampler: Sampler, random: number): Promise<number> {
    try {
      this.alive();
      this.mine('readSample', 'act', act);
      if (!sampler.onBackend || sampler.temperature === 0) {
        fail('bad-argument', 'readSample: the sampler is greedy or has a repetition penalty; use readArgmax, or read the logits and call sampler.sample.');
      }
      if (!(random >= 0 && random < 1)) fail('bad-argument', `readSample: random is ${random}; expected a uniform number in [0, 1).`);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.inner.readSample(act, sampler, random);
  }

  flush(): Promise<void> {
    if (this.destroyed) return Promise.reject(disposed());
    return this.inner.flush();
  }

  prepare(plan: () => void, onProgress?: (done: number, total: number) => void): Promise<void> {
    if (this.destroyed) return Promise.reject(disposed());
    return this.inner.prepare(plan, onProgress);
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.inner.destroy();
  }

  // ---- the checks ----

  private alive(): void {
    if (this.destroyed) throw disposed();
  }

  private own<T extends object>(x: T): T {
    this.made.add(x);
    return x;
  }

  // `x` was made by this backend: another backend's buffers, or plain objects, cannot be used
  private mine(op: string, arg: string, x: object): void {
    if (!this.made.has(x)) fail('bad-argument', `${op}: '${arg}' was not created by this ${this.kind} backend. Hint: create weights, activations and the KV cache with the backend that runs the ops.`);
  }

  // (1, n): a norm's scale or a bias
  private vector(op: string, w: Weight, n: number): void {
    this.mine(op, 'weight', w);
    if (!(w.rows === 1 && w.cols === n)) fail('bad-argument', `${op}: '${w.name}' is (${w.rows}, ${w.cols}), expected a vector (1, ${n}).`);
    if (isQuantDType(w.dtype)) fail('bad-argument', `${op}: '${w.name}' is ${w.dtype}; norm weights and biases are read as floats. Hint: keep vectors in f32, f16 or bf16.`);
  }

  // out (T, C) from inp (T, C), row by row
  private rowwise(op: string, out: Activation, inp: Activation, T: number): void {
    this.alive();
    this.mine(op, 'out', out);
    this.mine(op, 'inp', inp);
    width(op, 'out', out, inp.cols, "inp's");
    rowsFit(op, 'inp', inp, T);
    rowsFit(op, 'out', out, T);
    distinct(op, out, inp);
  }
}

function fail(code: GptErrorCode, message: string): never {
  throw new GptError(code, message);
}

function disposed(): GptError {
  return new GptError('disposed', 'This backend was destroyed. Hint: load the model again.');
}

function positive(what: string, a: number, b: number): void {
  if (!(Number.isInteger(a) && a > 0 && Number.isInteger(b) && b > 0)) fail('bad-argument', `${what}: shape (${a}, ${b}) must be two positive integers.`);
}

// T rows of `a` are live: an integer in 1 .. the rows allocated (see Backend: T is never 0)
function rowsFit(op: string, arg: string, a: Activation, T: number): void {
  if (!(Number.isInteger(T) && T >= 1 && T <= a.rows)) fail('bad-argument', `${op}: T = ${T} must be an integer in 1 .. ${a.rows}, the rows allocated for '${arg}'.`);
}

function width(op: string, arg: string, a: Activation, cols: number, what: string): void {
  if (a.cols !== cols) fail('bad-argument', `${op}: '${arg}' has ${a.cols} columns, expected ${what} = ${cols}.`);
}

function position(op: string, pos0: number): void {
  if (!(Number.isInteger(pos0) && pos0 >= 0)) fail('bad-argument', `${op}: pos0 = ${pos0} must be a non-negative integer.`);
}

// One dispatch cannot bind a GPU buffer both read-only and writable, so no backend may be asked to.
function distinct(op: string, out: Activation, inp: Activation): void {
  if (out === inp) fail('bad-argument', `${op}: out and inp are the same activation; pass two.`);
}
