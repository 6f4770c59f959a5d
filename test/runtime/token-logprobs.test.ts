// Token confidence (GenerateOptions.logprobs) on a generated fixture model, CPU: each event's
// logprob is log-softmax of the runtime's own logits at that step, recomputed here in float64
// from GptModel (sync the prompt, then decode each emitted token); under greedy sampling it is the
// maximum of that log-softmax, and top lists the most likely tokens best first. Off, no event
// carries them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadLanguageModel, tokenConfidence, type LanguageModel, type TokenEvent } from '../../src/runtime/index.ts';
import { nodeModelFiles } from '../../src/runtime/model-files-node.ts';

/** log softmax of `logits` in float64, written out independently of token-confidence.ts. */
function logSoftmax(logits: Float32Array): Float64Array {
  let max = -Infinity;
  for (const l of logits) max = Math.max(max, l);
  let sum = 0;
  for (const l of logits) sum += Math.exp(l - max);
  const logZ = max + Math.log(sum);
  return Float64Array.from(logits, (l) => l - logZ);
}

async function collect(lm: LanguageModel, prompt: string, options: Parameters<LanguageModel['generate']>[1]): Promise<TokenEvent[]> {
  const out: TokenEvent[] = [];
  for await (const ev of lm.generate(prompt, options)) out.push(ev);
  return out;
}

describe('token confidence', () => {
  let lm: LanguageModel;
  let reference: LanguageModel;
  beforeAll(async () => {
    lm = await loadLanguageModel(nodeModelFiles('test/fixtures/generated/gpt2'), { backend: 'cpu' });
    reference = await loadLanguageModel(nodeModelFiles('test/fixtures/generated/gpt2'), { backend: 'cpu' });
  });
  afterAll(() => {
    lm?.dispose();
    reference?.dispose();
  });

  /** Replays `events` on the reference model: the log-softmax row before each emitted token. */
  async function rows(prompt: string, events: readonly TokenEvent[]): Promise<Float64Array[]> {
    const out: Float64Array[] = [];
    let logits = await reference.model.sync(reference.encode(prompt));
    for (const ev of events.filter((e) => e.id >= 0)) {
      out.push(logSoftmax(logits));
      logits = await reference.model.decode(ev.id);
    }
    return out;
  }

  it('greedy: each logprob is the maximum of the log-softmax of that step, top[0] is the token itself', async () => {
    const prompt = 'The cat sat on the';
    const events = (await collect(lm, prompt, { maxTokens: 12, temperature: 0, logprobs: 5 })).filter((e) => e.id >= 0);
    expect(events.length).toBe(12);
    const expected = await rows(prompt, events);
    events.forEach((ev, i) => {
      const row = expected[i]!;
      let argmax = 0;
      for (let v = 1; v < row.length; v++) if (row[v]! > row[argmax]!) argmax = v;
      expect(ev.id).toBe(argmax);
      expect(ev.logprob).toBeCloseTo(row[argmax]!, 4);
      expect(ev.logprob!).toBeLessThan(0);
      expect(ev.top!.length).toBe(5);
      expect(ev.top![0]!.id).toBe(ev.id);
      // best first, each the reference's value, and together at most all of the mass
      const sorted = Array.from(row).map((lp, id) => ({ id, lp })).sort((a, b) => b.lp - a.lp || a.id - b.id).slice(0, 5);
      expect(ev.top!.map((t) => t.id)).toEqual(sorted.map((s) => s.id));
      ev.top!.forEach((t, j) => expect(t.logprob).toBeCloseTo(sorted[j]!.lp, 4));
      expect(ev.top!.reduce((s, t) => s + Math.exp(t.logprob), 0)).toBeLessThanOrEqual(1 + 1e-9);
      expect(ev.top![0]!.text).toBe(lm.tokenizer.decode([ev.id]));
    });
  });

  it('sampled at temperature 1.3: the logprob is of the token drawn, under the untempered distribution', async () => {
    const prompt = 'Once upon a time';
    const events = (await collect(lm, prompt, { maxTokens: 10, temperature: 1.3, seed: 7, logprobs: 0 })).filter((e) => e.id >= 0);
    const expected = await rows(prompt, events);
    let belowMax = 0;
    events.forEach((ev, i) => {
      const row = expected[i]!;
      expect(ev.logprob).toBeCloseTo(row[ev.id]!, 4);
      expect(ev.top).toEqual([]);
      if (row[ev.id]! < Math.max(...row) - 1e-9) belowMax++;
    });
    // a random-weight model sampled hot picks tokens other than the argmax: the test can tell
    expect(belowMax).toBeGreaterThan(0);
  });

  it('is absent unless asked for, and a bad count is refused', async () => {
    const events = await collect(lm, 'Hello', { maxTokens: 4, temperature: 0 });
    expect(events.every((e) => !('logprob' in e) && !('top' in e))).toBe(true);
    await expect(collect(lm, 'Hello', { maxTokens: 2, logprobs: 1.5 })).rejects.toMatchObject({ code: 'bad-argument', message: expect.stringMatching(/logprobs is 1.5/) });
  });

  it('ranks ties by the lower id and treats NaN as impossible', () => {
    const logits = new Float32Array([1, 3, 3, NaN, 2]);
    const r = tokenConfidence(logits, 3, 3, (id) => `t${id}`);
    expect(r.logprob).toBe(-Infinity);
    expect(r.top.map((t) => t.id)).toEqual([1, 2, 4]);
    const z = Math.log(Math.exp(1) + 2 * Math.exp(3) + Math.exp(2));
    expect(r.top[0]!.logprob).toBeCloseTo(3 - z, 12);
    expect(r.top[2]).toMatchObject({ id: 4, text: 't4' });
  });
});
