import { GptError } from '../errors.ts';
import { Rng } from './rng.ts';

const BUCKETS = 64;
// index of the float64's high word (sign, exponent) in its Uint32Array view: 1 on little-endian
// machines, which every browser runs on, but checked rather than assumed
const HIGH_WORD = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1 ? 1 : 0;

/**
 * How the next token is picked from the logits: the one definition of the sampling options, for
 * the {@link Sampler} and for `LanguageModel.generate` (whose GenerateOptions extend these).
 * Defaults: {@link SAMPLER_DEFAULTS}.
 */
export interface SamplerOptions {
  /** Softmax temperature; 0 means greedy (argmax, ties to the lowest id). */
  readonly temperature?: number;
  /** Keep only the K most likely tokens; 0 keeps all. */
  readonly topK?: number;
  /** Keep the smallest set of most likely tokens whose probability reaches topP; 1 keeps all. */
  readonly topP?: number;
  /** Drop tokens less likely than minP times the most likely one; 0 keeps all. */
  readonly minP?: number;
  /**
   * Hugging Face `repetition_penalty`: every token already in the history has its logit divided
   * by this when positive and multiplied when negative (each token once, however often it
   * occurred). 1 is off; 1.1 to 1.3 is typical.
   */
  readonly repetitionPenalty?: number;
  /** Seed of the random generator; the same seed and logits give the same tokens. */
  readonly seed?: number;
}

/**
 * The default of every sampling option: greedy, every filter off, a fixed seed, so that the same
 * input gives the same text unless the caller asks for sampling (the chat element does: 0.7).
 */
export const SAMPLER_DEFAULTS: Readonly<Required<SamplerOptions>> = { temperature: 0, topK: 0, topP: 1, minP: 0, repetitionPenalty: 1, seed: 0 };

/** The error of a logits row in which every value is -Infinity or NaN: `where` says who found it. */
export function noTokenPossible(where: string): GptError {
  return new GptError(
    'internal',
    `${where}: every logit is -Infinity or NaN, so no token can be chosen. ` +
      'Hint: the forward pass produced non-finite values; check the weights and the kernels against the CPU path.',
  );
}

/**
 * Picks the next token from a row of logits (V values), with Hugging Face semantics and order:
 * repetition penalty, then temperature, top-k, top-p, min-p, then one draw from what is left.
 * Tokens rank by probability, ties to the lower id; the draw walks what is left in id order (any
 * fixed order samples the same distribution, and this one a GPU can follow without sorting: the
 * WebGPU backend's readSample picks the same token from the same logits and random number).
 *
 * Buffers of size V are allocated once, on the first call (and again only if V changes), so a
 * generation loop allocates nothing per token. No full sort of the vocabulary: top-k and top-p
 * are found by quickselect partitioning, O(V) expected, because sorting 150k logits per token
 * would cost more than a forward pass of a small model; only the survivors of a cut are sorted
 * back into id order for the draw.
 */
export class Sampler {
  readonly temperature: number;
  readonly topK: number;
  readonly topP: number;
  readonly minP: number;
  readonly repetitionPenalty: number;
  private readonly rng: { next(): number };

  private V = 0;
  // (V) penalised logits, then unnormalised probabilities exp((logit - max) / temperature)
  private p = new Float64Array(0);
  // (V) candidate token ids; the first n are still in the running
  private idx = new Int32Array(0);
  // (V) epoch stamps, so each history token is penalised once without clearing a mask
  private seen = new Uint32Array(0);
  private epoch = 0;
  // (BUCKETS) how many candidate tokens, and how much probability, per power of two
  private readonly bucketCount = new Int32Array(BUCKETS);
  private readonly bucketMass = new Float64Array(BUCKETS);
  // one float64 seen as two uint32 words, to read a probability's exponent
  private readonly bits = (() => {
    const f64 = new Float64Array(1);
    return { f64, u32: new Uint32Array(f64.buffer) };
  })();

  /**
   * @param options see {@link SamplerOptions}; out-of-range values throw GptError 'bad-argument'.
   * @param rng the source of uniform numbers in [0, 1); by default a {@link Rng} seeded from
   *   `options.seed` (tests pass their own to pin the draws)
   */
  constructor(options: SamplerOptions = {}, rng?: { next(): number }) {
    const o = SAMPLER_DEFAULTS;
    this.temperature = check('temperature', options.temperature ?? o.temperature, (v) => v >= 0, 'a number >= 0 (0 = greedy)');
    this.topK = check('topK', options.topK ?? o.topK, (v) => Number.isInteger(v) && v >= 0, 'an integer >= 0 (0 = off)');
    this.topP = check('topP', options.topP ?? o.topP, (v) => v > 0 && v <= 1, 'a number in (0, 1] (1 = off)');
    this.minP = check('minP', options.minP ?? o.minP, (v) => v >= 0 && v < 1, 'a number in [0, 1) (0 = off)');
    this.repetitionPenalty = check(
      'repetitionPenalty',
      options.repetitionPenalty ?? o.repetitionPenalty,
      (v) => v > 0,
      'a number > 0 (1 = off; 1.1 to 1.3 is typical)',
    );
    const seed = check('seed', options.seed ?? o.seed, () => true, 'a finite number');
    this.rng = rng ?? new Rng(seed);
  }

  /**
   * True when {@link sample} is the argmax of the logits: temperature 0 and no repetition
   * penalty (the other filters cannot change the top token). Greedy generation can then let the
   * backend find it ({@link GptModel.decodeGreedy}).
   */
  get greedy(): boolean {
    return this.temperature === 0 && this.repetitionPenalty === 1;
  }

  /**
   * True when the backend can pick every token ({@link GptModel.decodeGreedy} for greedy,
   * {@link GptModel.decodeSampled} otherwise): no repetition penalty, which needs the history.
   */
  get onBackend(): boolean {
    return this.repetitionPenalty === 1;
  }

  /**
   * The next uniform number in [0, 1) of this sampler's generator: what {@link sample} draws once
   * per call when the temperature is above 0, for a backend that samples ({@link pick}).
   */
  nextRandom(): number {
    return this.rng.next();
  }

  /**
   * The next token id.
   * @param logits (V) the output row of the last position; not modified.
   * @param history token ids seen so far (prompt and generated), for the repetition penalty.
   */
  sample(logits: Float32Array, history: ArrayLike<number> = []): number {
    // drawn first, whatever the logits hold, so a backend that samples uses the same numbers
    const random = this.temperature > 0 ? this.rng.next() : 0;
    this.load(logits, 'Sampler.sample');
    if (this.repetitionPenalty !== 1) this.penalise(history, logits.length);
    return this.choose(logits.length, random);
  }

  /**
   * The token that `random` (uniform in [0, 1)) picks from `logits` through temperature, top-k,
   * top-p and min-p, without the repetition penalty: the reference a backend's `readSample` must
   * match. Draws nothing from this sampler's generator.
   */
  pick(logits: Float32Array, random: number): number {
    this.load(logits, 'Sampler.pick');
    return this.choose(logits.length, random);
  }

  /** Copies the logits into p; NaN counts as -Infinity so a broken row cannot pick a garbage id. */
  private load(logits: Float32Array, where: string): void {
    const V = logits.length;
    if (V === 0) throw new GptError('bad-argument', `${where}: the logits row is empty; expected V values.`);
    this.ensureCapacity(V);
    const p = this.p;
    for (let i = 0; i < V; i++) {
      const l = logits[i]!;
      p[i] = l === l ? l : -Infinity;
    }
  }

  /** The pick from the (penalised) logits in p[0, V) and the uniform number `random`. */
  private choose(V: number, random: number): number {
    const p = this.p;
    let best = 0;
    for (let i = 1; i < V; i++) if (p[i]! > p[best]!) best = i; // strict: ties go to the lowest id
    const max = p[best]!;
    if (max === -Infinity) throw noTokenPossible('Sampler');
    if (this.temperature === 0 || max === Infinity) return best;

    // unnormalised probabilities, in (0, 1] with the top token at 1; tokens whose probability
    // underflows to 0 leave the running. With top-k or top-p, also a histogram by powers of two
    // (bucket b holds 2^-(b+1) < p <= 2^-b... exactly: floor(-log2 p) = b, read from the float's
    // exponent bits), which narrows the quickselect below to the few buckets that matter.
    const idx = this.idx;
    const invT = 1 / this.temperature;
    const bucketed = (this.topK > 0 && this.topK < V) || this.topP < 1;
    const count = this.bucketCount.fill(0);
    const mass = this.bucketMass.fill(0);
    const bits = this.bits;
    let n = 0;
    for (let i = 0; i < V; i++) {
      const e = Math.exp((p[i]! - max) * invT);
      p[i] = e;
      if (e > 0) {
        idx[n++] = i;
        if (bucketed) {
          bits.f64[0] = e;
          const b = Math.min(BUCKETS - 1, 1023 - ((bits.u32[HIGH_WORD]! >>> 20) & 0x7ff));
          count[b]!++;
          mass[b] += e;
        }
      }
    }

    const cutByTopK = this.topK > 0 && this.topK < n;
    if (cutByTopK) {
      // the top k lie in the first buckets whose counts add up to k
      let b = 0;
      for (let seen = count[0]!; seen < this.topK; seen += count[++b]!);
      n = this.keepAbove(n, b);
      this.selectTop(n, this.topK);
      n = this.topK;
    }
    if (this.topP < 1 && n > 1) {
      let total = 0;
      for (let j = 0; j < n; j++) total += p[idx[j]!]!;
      const need = this.topP * total;
      if (!cutByTopK) {
        // (the histogram counts every candidate, so it only helps before a top-k cut)
        // the nucleus lies in the first buckets whose mass reaches `need`
        let b = 0;
        for (let sum = mass[0]!; sum < need && b < BUCKETS - 1; sum += mass[++b]!);
        n = this.keepAbove(n, b);
      }
      n = this.nucleus(n, need);
    }
    if (this.minP > 0 && n > 1) {
      // HF compares softmax probabilities with minP * max; the softmax denominator cancels out
      let top = 0;
      for (let j = 0; j < n; j++) top = Math.max(top, p[idx[j]!]!);
      const threshold = this.minP * top;
      let kept = 0;
      for (let j = 0; j < n; j++) {
        const id = idx[j]!;
        if (p[id]! >= threshold) idx[kept++] = id;
      }
      n = kept;
    }

    // the partitions left the survivors in rank order, more or less: back to id order for the draw
    if (cutByTopK || this.topP < 1) idx.subarray(0, n).sort();
    let total = 0;
    for (let j = 0; j < n; j++) total += p[idx[j]!]!;
    let r = random * total;
    for (let j = 0; j < n - 1; j++) {
      r -= p[idx[j]!]!;
      if (r < 0) return idx[j]!;
    }
    return idx[n - 1]!; // also where rounding leaves r a hair above the last cumulative sum
  }

  /** Keeps in idx[0, n) the tokens of buckets 0..b (p >= 2^-b); returns how many. */
  private keepAbove(n: number, b: number): number {
    if (b >= BUCKETS - 1) return n; // the last bucket also holds everything smaller
    const p = this.p;
    const idx = this.idx;
    const threshold = 2 ** -b;
    let kept = 0;
    for (let j = 0; j < n; j++) {
      const id = idx[j]!;
      if (p[id]! >= threshold) idx[kept++] = id;
    }
    return kept;
  }

  private ensureCapacity(V: number): void {
    if (V === this.V) return;
    this.V = V;
    this.p = new Float64Array(V);
    this.idx = new Int32Array(V);
    this.seen = new Uint32Array(V);
    this.epoch = 0;
  }

  /** HF RepetitionPenaltyLogitsProcessor: divide positive logits, multiply negative ones. */
  private penalise(history: ArrayLike<number>, V: number): void {
    const p = this.p;
    const seen = this.seen;
    this.epoch = (this.epoch + 1) >>> 0;
    if (this.epoch === 0) {
      seen.fill(0); // wrapped after 2**32 calls: old stamps could collide
      this.epoch = 1;
    }
    const penalty = this.repetitionPenalty;
    for (let j = 0; j < history.length; j++) {
      const id = history[j]!;
      if (!(Number.isInteger(id) && id >= 0 && id < V)) {
        throw new GptError(
          'bad-argument',
          `Sampler.sample: history[${j}] is ${id}, not a token id in [0, ${V}). Hint: pass the token ids of the prompt and the reply.`,
        );
      }
      if (seen[id] === this.epoch) continue;
      seen[id] = this.epoch;
      const l = p[id]!;
      p[id] = l < 0 ? l * penalty : l / penalty;
    }
  }

  /**
   * Partitions idx[lo, hi) around a median-of-three pivot: the tokens ranking before the pivot
   * (more likely, or as likely with a lower id) first, then the pivot, then the rest. Returns the
   * pivot's position. Comparisons are written out inline: this loop is most of the sampling time.
   */
  private partition(lo: number, hi: number): number {
    const p = this.p;
    const idx = this.idx;
    const mid = (lo + hi) >>> 1;
    // median of three, moved to hi - 1
    const a = idx[lo]!;
    const b = idx[mid]!;
    const c = idx[hi - 1]!;
    const ab = before(p, a, b);
    // a between b and c: a; else a is above (or below) both, and the higher (lower) of b, c is the median
    const m = ab !== before(p, a, c) ? lo : before(p, b, c) === ab ? mid : hi - 1;
    swap(idx, m, hi - 1);
    const pivot = idx[hi - 1]!;
    const pv = p[pivot]!;
    let store = lo;
    for (let j = lo; j < hi - 1; j++) {
      const id = idx[j]!;
      const pj = p[id]!;
      if (pj > pv || (pj === pv && id < pivot)) {
        idx[j] = idx[store]!;
        idx[store++] = id;
      }
    }
    swap(idx, store, hi - 1);
    return store;
  }

  /** Reorders idx[0, n) so that its first k entries are the k top-ranked tokens (in any order). */
  private selectTop(n: number, k: number): void {
    let lo = 0;
    let hi = n;
    while (hi - lo > 1) {
      const pos = this.partition(lo, hi);
      if (pos === k || pos === k - 1) return;
      if (pos < k) lo = pos + 1;
      else hi = pos;
    }
  }

  /**
   * The size of the nucleus: the smallest k such that the k top-ranked tokens of idx[0, n) hold at
   * least `need` probability mass (HF keeps a token when the mass ranked before it is < top_p).
   * Reorders idx so that those k come first.
   */
  private nucleus(n: number, need: number): number {
    const p = this.p;
    const idx = this.idx;
    let lo = 0;
    let hi = n;
    let base = 0; // mass of idx[0, lo), all in the nucleus
    while (lo < hi) {
      const pos = this.partition(lo, hi);
      let above = 0;
      for (let j = lo; j < pos; j++) above += p[idx[j]!]!;
      if (base + above >= need) {
        hi = pos;
        continue;
      }
      base += above + p[idx[pos]!]!;
      if (base >= need) return pos + 1;
      lo = pos + 1;
    }
    // only reached when rounding makes the summed mass fall a hair short of `need`
    return Math.max(hi, 1);
  }
}

function check(name: string, value: number, ok: (v: number) => boolean, expected: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || !ok(value)) {
    throw new GptError('bad-argument', `Sampler option ${name} is ${value}; expected ${expected}.`);
  }
  return value;
}

/** True when token a ranks before token b: more likely, or as likely with a lower id. */
function before(p: Float64Array, a: number, b: number): boolean {
  const pa = p[a]!;
  const pb = p[b]!;
  return pa > pb || (pa === pb && a < b);
}

function swap(a: Int32Array, i: number, j: number): void {
  const t = a[i]!;
  a[i] = a[j]!;
  a[j] = t;
}
