import { describe, expect, it } from 'vitest';
import { GptError } from '../../src/errors.ts';
import { Rng } from '../../src/runtime/rng.ts';
import { Sampler, type SamplerOptions } from '../../src/runtime/sampler.ts';

describe('Rng (xoshiro128**)', () => {
  it('matches the reference outputs for state {1, 2, 3, 4}', () => {
    const rng = Rng.fromState([1, 2, 3, 4]);
    const out = Array.from({ length: 6 }, () => rng.nextUint32());
    expect(out).toEqual([11520, 0, 5927040, 70819200, 2031721883, 1637235492]);
  });

  it('is reproducible from a seed, differs between seeds, and is uniform in [0, 1)', () => {
    const draw = (seed: number) => {
      const rng = new Rng(seed);
      return Array.from({ length: 1000 }, () => rng.next());
    };
    expect(draw(42)).toEqual(draw(42));
    expect(draw(42)).not.toEqual(draw(43));
    expect(draw(1)).not.toEqual(draw(2 ** 32 + 1)); // the high bits of the seed count
    const xs = draw(0);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.03);
    expect(() => new Rng(NaN)).toThrow(GptError);
  });
});

/** A straightforward reference of HF's pipeline: penalty, temperature, top-k, top-p, min-p. */
function referenceProbs(logits: ArrayLike<number>, history: number[], o: Required<Omit<SamplerOptions, 'seed'>>): number[] {
  const V = logits.length;
  const l = Array.from(logits);
  for (const id of new Set(history)) l[id] = l[id]! < 0 ? l[id]! * o.repetitionPenalty : l[id]! / o.repetitionPenalty;
  const order = [...l.keys()].sort((a, b) => l[b]! - l[a]! || a - b);
  if (o.temperature === 0) return l.map((_, i) => (i === order[0] ? 1 : 0));
  const max = l[order[0]!]!;
  let w = l.map((x) => Math.exp((x - max) / o.temperature));
  const keep = new Array<boolean>(V).fill(true);
  if (o.topK > 0) order.forEach((id, rank) => (keep[id] = rank < o.topK));
  if (o.topP < 1) {
    const total = order.filter((id) => keep[id]).reduce((s, id) => s + w[id]!, 0);
    let before = 0;
    for (const id of order) {
      if (!keep[id]) continue;
      keep[id] = before < o.topP * total;
      before += w[id]!;
    }
  }
  if (o.minP > 0) for (const id of order) if (keep[id] && w[id]! < o.minP * 1) keep[id] = false;
  w = w.map((x, i) => (keep[i] ? x : 0));
  const sum = w.reduce((a, b) => a + b, 0);
  return w.map((x) => x / sum);
}

/** Draws spread evenly over [0, 1): the k-th of M draws is (k + 0.5) / M. */
function gridRng(M: number): { next(): number } {
  let k = 0;
  return { next: () => ((k++ % M) + 0.5) / M };
}

const DEFAULTS = { temperature: 1, topK: 0, topP: 1, minP: 0, repetitionPenalty: 1 };

function randomLogits(V: number, seed: number, scale: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: V }, () => (rng.next() - 0.5) * scale);
}

describe('Sampler', () => {
  it('greedy is argmax with ties to the lowest id, and ignores NaN', () => {
    const s = new Sampler({ temperature: 0 });
    expect(s.sample(new Float32Array([0.1, 3, -1, 3, 2]))).toBe(1);
    expect(s.sample(new Float32Array([NaN, -5, NaN, -4]))).toBe(3);
    expect(s.sample(new Float32Array([-Infinity, -Infinity, 0]))).toBe(2);
    const e = (() => {
      try {
        s.sample(new Float32Array([NaN, -Infinity]));
      } catch (err) {
        return err as GptError;
      }
    })();
    expect(e?.code).toBe('internal');
  });

  it('applies the repetition penalty as HF does: divide positive, multiply negative, once per token', () => {
    const s = new Sampler({ temperature: 0, repetitionPenalty: 2 });
    expect(s.sample(new Float32Array([1.5, 0, 2]), [2])).toBe(0); // 2 / 2 = 1 < 1.5
    expect(s.sample(new Float32Array([1.5, 0, 2]), [])).toBe(2);
    expect(s.sample(new Float32Array([-1, -1.5, -3]), [0])).toBe(1); // -1 * 2 = -2 < -1.5
    expect(s.sample(new Float32Array([0.9, 0, 2]), [2, 2, 2])).toBe(2); // 2 / 2 once, not / 8
    const logits = new Float32Array([0.9, 0, 2]);
    s.sample(logits, [2]);
    expect(Array.from(logits)).toEqual([Float32Array.of(0.9)[0], 0, 2]); // the caller's row is untouched
  });

  it.each<[string, Partial<SamplerOptions>]>([
    ['plain softmax', {}],
    ['temperature 0.5', { temperature: 0.5 }],
    ['top-k 3', { topK: 3 }],
    ['top-p 0.6', { topP: 0.6 }],
    ['min-p 0.3', { minP: 0.3 }],
    ['all together with a penalty', { temperature: 0.8, topK: 6, topP: 0.9, minP: 0.05, repetitionPenalty: 1.3 }],
  ])('draws from the same distribution as the reference: %s', (_, options) => {
    const logits = Float32Array.from([2, 1.5, 1.4, -0.5, 0.3, 1.5, -2, 0.9, 0.1, 2.2, -1, 0.6]);
    const history = [0, 9, 9, 3];
    const o = { ...DEFAULTS, ...options };
    const expected = referenceProbs(logits, history, o);
    const M = 20000;
    const s = new Sampler(o, gridRng(M));
    const counts = new Array<number>(logits.length).fill(0);
    for (let k = 0; k < M; k++) counts[s.sample(logits, history)]!++;
    // a grid of draws hits each token's share to within a draw or two
    counts.forEach((c, id) => expect(Math.abs(c / M - expected[id]!)).toBeLessThan(3 / M));
  });

  it('finds exactly the reference top-k and nucleus in a large vocabulary', () => {
    const V = 3000;
    const logits = randomLogits(V, 5, 12);
    for (const options of [{ topK: 40 }, { topP: 0.5 }, { topP: 0.8, temperature: 1.2 }, { topK: 500, topP: 0.7 }]) {
      const o = { ...DEFAULTS, ...options };
      const expected = referenceProbs(logits, [], o);
      const support = new Set(expected.flatMap((p, id) => (p > 0 ? [id] : [])));
      const smallest = Math.min(...expected.filter((p) => p > 0));
      const M = Math.ceil(4 / smallest); // every kept token gets at least ~4 grid draws
      const s = new Sampler(o, gridRng(M));
      const seen = new Set<number>();
      for (let k = 0; k < M; k++) seen.add(s.sample(logits));
      expect([...seen].sort((a, b) => a - b)).toEqual([...support].sort((a, b) => a - b));
    }
  });

  it('gives the same tokens for the same seed, other tokens for another', () => {
    const logits = randomLogits(500, 9, 4);
    const run = (seed: number) => {
      const s = new Sampler({ temperature: 1, topP: 0.95, seed });
      return Array.from({ length: 50 }, () => s.sample(logits));
    };
    expect(run(123)).toEqual(run(123));
    expect(run(123)).not.toEqual(run(124));
  });

  it('handles a vocabulary size change and an all-but-one underflow', () => {
    const s = new Sampler({ temperature: 0.01, seed: 1 });
    expect(s.sample(new Float32Array([0, 10, 0]))).toBe(1); // the rest underflow to probability 0
    expect(s.sample(new Float32Array([0, 0, 0, 0, 50]))).toBe(4);
  });

  it('refuses bad options and bad history ids, naming them', () => {
    const bad: [Partial<SamplerOptions>, RegExp][] = [
      [{ temperature: -1 }, /temperature/],
      [{ topK: 1.5 }, /topK/],
      [{ topP: 0 }, /topP/],
      [{ minP: 1 }, /minP/],
      [{ repetitionPenalty: 0 }, /repetitionPenalty/],
      [{ seed: Infinity }, /seed/],
    ];
    for (const [options, name] of bad) {
      expect(() => new Sampler(options)).toThrow(name);
      expect(() => new Sampler(options)).toThrow(GptError);
    }
    const s = new Sampler({ repetitionPenalty: 1.2 });
    expect(() => s.sample(new Float32Array(4), [1, 7])).toThrow(/history\[1\] is 7/);
    expect(() => s.sample(new Float32Array(0))).toThrow(GptError);
  });
});
