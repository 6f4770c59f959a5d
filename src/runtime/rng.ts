import { GptError } from '../errors.ts';

/**
 * A small seeded pseudo-random generator: xoshiro128** (Blackman & Vigna, 2018), seeded through
 * splitmix32 so that any number (0, 42, Date.now()) gives a well-mixed 128-bit state. Same seed,
 * same sequence, in every JavaScript engine: the arithmetic is 32-bit integer only (Math.imul, >>>).
 *
 * Why not Math.random: it cannot be seeded, and a sampling run must be reproducible from its seed.
 * Why xoshiro128**: four uint32 words of state, no allocation per draw, passes BigCrush; far more
 * than sampling needs, for the same dozen lines as mulberry32.
 */
export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  /** @param seed any finite number; its integer part and sign are mixed into the state. */
  constructor(seed: number) {
    if (!Number.isFinite(seed)) {
      throw new GptError('bad-argument', `Rng seed must be a finite number, got ${seed}. Hint: pass an integer such as 42.`);
    }
    // splitmix32 over the low and high 32 bits of the seed, so 2**32 + 1 and 1 differ.
    const low = Math.trunc(seed) >>> 0;
    const high = Math.trunc(seed / 2 ** 32) >>> 0;
    let x = (low ^ Math.imul(high, 0x9e3779b9)) >>> 0;
    const next = (): number => {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
    // The all-zero state is a fixed point of xoshiro; splitmix32 cannot produce four zeros, but
    // guard anyway since the cost is one comparison.
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /**
   * A generator with the raw xoshiro state (four uint32 words, not all zero), bypassing the
   * splitmix32 seeding: for checking against the reference implementation's published outputs.
   */
  static fromState(state: readonly [number, number, number, number]): Rng {
    if (state.every((w) => w >>> 0 === 0)) {
      throw new GptError('bad-argument', 'Rng.fromState: the xoshiro128** state must not be all zeros.');
    }
    const rng = new Rng(0);
    [rng.s0, rng.s1, rng.s2, rng.s3] = state.map((w) => w >>> 0) as [number, number, number, number];
    return rng;
  }

  /** The next uniformly distributed unsigned 32-bit integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** The next float uniformly distributed in [0, 1), with 32 bits of randomness. */
  next(): number {
    return this.nextUint32() / 4294967296;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
