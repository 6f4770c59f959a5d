// Few-shot templates across the engine seam: WorkerClient -> protocol -> serveEngine ->
// InPageEngine -> the runtime, over a real MessageChannel, on a generated fixture model (CPU).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InPageEngine } from '../../src/engine/in-page-engine.ts';
import type { ModelLoader } from '../../src/engine/load-model.ts';
import { WorkerClient } from '../../src/engine/worker-client.ts';
import { serveEngine } from '../../src/engine/worker.ts';
import { GptError } from '../../src/errors.ts';
import { loadLanguageModel, type LanguageModel } from '../../src/runtime/index.ts';
import { nodeModelFiles } from '../../src/runtime/model-files-node.ts';
import { builtinTemplate, choose, classify, validateTemplate } from '../../src/templates/index.ts';

function channelWorker(engine: InPageEngine) {
  return (): Worker => {
    const { port1, port2 } = new MessageChannel();
    serveEngine(port2 as unknown as Parameters<typeof serveEngine>[0], engine);
    port2.start();
    port1.start();
    return Object.assign(port1, { terminate: () => port1.close() }) as unknown as Worker;
  };
}

describe('templates through the worker protocol', () => {
  let lm: LanguageModel;
  let reference: LanguageModel;
  let client: WorkerClient;
  beforeAll(async () => {
    lm = await loadLanguageModel(nodeModelFiles('test/fixtures/generated/gpt2'), { backend: 'cpu' });
    reference = await loadLanguageModel(nodeModelFiles('test/fixtures/generated/gpt2'), { backend: 'cpu' });
    const loader: ModelLoader = async () => ({ model: lm, fromCache: false });
    client = new WorkerClient({ workerUrl: 'http://test/templates-worker.js', startWorker: channelWorker(new InPageEngine(loader)) });
    await client.load({ url: 'http://test/gpt2/', engine: 'cpu' });
  });
  afterAll(() => {
    client?.dispose();
    lm?.dispose();
    reference?.dispose();
  });

  it('classify and choose return what the runtime computes directly', async () => {
    const topic = builtinTemplate('topic')!;
    const viaWorker = await client.classify(topic, { text: 'The chef opens a vegan menu' }, { normalisation: 'calibrated' });
    const direct = await classify(reference, topic, { text: 'The chef opens a vegan menu' }, { normalisation: 'calibrated' });
    expect(viaWorker.candidates).toEqual(['sports', 'science', 'business', 'food']);
    expect(viaWorker.logProbs).toEqual(direct.logProbs);
    expect(viaWorker.probabilities).toEqual(direct.probabilities);
    expect(viaWorker.contentFree).toEqual(direct.contentFree);
    expect(viaWorker.promptTokens).toBe(direct.promptTokens);
    expect(viaWorker.ms).toBeGreaterThan(0);
    const mc = builtinTemplate('multiple-choice')!;
    const q = { question: 'Which animal says baa?', a: 'sheep', b: 'owl', c: 'cow', d: 'pig' };
    const chosen = await client.choose(mc, q, { normalisation: 'length', k: 1 });
    expect(chosen.scores).toEqual((await choose(reference, mc, q, { normalisation: 'length', k: 1 })).scores);
  });

  it('errors cross as GptError with their code and message', async () => {
    const err = await client.classify(builtinTemplate('sentiment')!, { review: 'x' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GptError);
    expect((err as GptError).code).toBe('bad-template');
    expect((err as GptError).message).toMatch(/the query is missing the field "text"/);
    await expect(client.classify({ ...builtinTemplate('sentiment')!, pattern: '{{nope}}' }, { text: 'x' })).rejects.toMatchObject({ code: 'bad-template', message: expect.stringMatching(/unknown placeholder \{\{nope\}\}/) });
  });

  it('counts prompt tokens and streams a generation template', async () => {
    expect(await client.countTokens('Hello there')).toBe(lm.tokenizer.encodePrompt('Hello there').length);
    const gen = validateTemplate({ version: 1, id: 'echo', name: 'Echo', task: 'generation', fields: ['q'], pattern: 'Q: {{q}}\n', answer: 'A: {{answer}}', examples: [{ fields: { q: 'hi' }, answer: 'hello' }] });
    const events = [];
    for await (const e of client.complete(gen, { q: 'bye' }, { maxTokens: 5, temperature: 0 })) events.push(e);
    const done = events.at(-1)!;
    expect(done.type).toBe('done');
    if (done.type === 'done') {
      expect(done.promptTokens).toBe(lm.tokenizer.encodePrompt('Q: hi\nA: hello\n\nQ: bye\nA:').length);
      expect(done.generatedTokens).toBeGreaterThan(0);
    }
    // greedy: the same tokens as generating from the rendered prompt directly
    const direct = [];
    for await (const e of reference.generate('Q: hi\nA: hello\n\nQ: bye\nA:', { maxTokens: 5, temperature: 0 })) direct.push(e.text);
    expect(events.filter((e) => e.type === 'token').map((e) => (e.type === 'token' ? e.text : '')).join('')).toBe(direct.join(''));
  });
});
