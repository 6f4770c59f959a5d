// Task heads across the engine seam: WorkerClient -> protocol -> serveEngine -> InPageEngine ->
// the runtime, over a real MessageChannel, on a generated fixture model (CPU): training streams
// progress and returns what trainHead computes directly, classify with the head matches, a cancel
// reaches the worker, and a model without hidden states is refused.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InPageEngine } from '../../../src/engine/in-page-engine.ts';
import type { LoadedModel, ModelLoader } from '../../../src/engine/load-model.ts';
import { WorkerClient } from '../../../src/engine/worker-client.ts';
import { serveEngine } from '../../../src/engine/worker.ts';
import { loadLanguageModel, type LanguageModel } from '../../../src/runtime/index.ts';
import { nodeModelFiles } from '../../../src/runtime/model-files-node.ts';
import { builtinTemplate, classify, trainHead, type TrainHeadProgress } from '../../../src/templates/index.ts';

function channelWorker(engine: InPageEngine) {
  return (): Worker => {
    const { port1, port2 } = new MessageChannel();
    serveEngine(port2 as unknown as Parameters<typeof serveEngine>[0], engine);
    port2.start();
    port1.start();
    return Object.assign(port1, { terminate: () => port1.close() }) as unknown as Worker;
  };
}

const WORDS = ['sun', 'rain', 'good', 'bad', 'fine', 'awful', 'great', 'poor', 'warm', 'cold'];
const rows = Array.from({ length: 24 }, (_, i) => ({ fields: { text: `${WORDS[i % 10]} ${WORDS[(i * 3) % 10]} day ${i}` }, answer: i % 2 ? 'positive' : 'negative' }));

describe('task heads through the worker protocol', () => {
  let lm: LanguageModel;
  let reference: LanguageModel;
  let client: WorkerClient;
  const fixture = 'test/fixtures/generated/gpt2';
  beforeAll(async () => {
    lm = await loadLanguageModel(nodeModelFiles(fixture), { backend: 'cpu' });
    reference = await loadLanguageModel(nodeModelFiles(fixture), { backend: 'cpu' });
    const loader: ModelLoader = async () => ({ model: lm, fromCache: false });
    client = new WorkerClient({ workerUrl: 'http://test/head-worker.js', startWorker: channelWorker(new InPageEngine(loader)) });
    await client.load({ url: 'http://test/gpt2/', engine: 'cpu' });
  });
  afterAll(() => {
    client?.dispose();
    lm?.dispose();
    reference?.dispose();
  });

  it('trains with progress, returns what trainHead computes directly, and classify uses it', async () => {
    const t = builtinTemplate('sentiment')!;
    const seen: TrainHeadProgress[] = [];
    const head = await client.trainHead(t, rows, { folds: 3, lambdas: [0.1, 1] }, (p) => seen.push(p));
    expect(seen.filter((p) => p.phase === 'features').at(-1)).toEqual({ phase: 'features', done: 24, total: 24 });
    expect(seen.at(-1)).toEqual({ phase: 'fit', done: 7, total: 7 });
    const direct = await trainHead(reference, t, rows, { folds: 3, lambdas: [0.1, 1] });
    expect({ ...head, trainedAt: '' }).toEqual({ ...direct, trainedAt: '' });
    expect(head.model.weightsHash).toBe(lm.weightsHash);
    const viaWorker = await client.classify(t, { text: 'warm sun day' }, { head });
    const here = await classify(reference, t, { text: 'warm sun day' }, { head });
    expect(viaWorker.normalisation).toBe('head');
    expect(viaWorker.probabilities).toEqual(here.probabilities);
  });

  it('cancels in the worker when the signal fires, and says so', async () => {
    const abort = new AbortController();
    const seen: TrainHeadProgress[] = [];
    const many = [...rows, ...rows, ...rows, ...rows].map((r, i) => ({ ...r, fields: { text: `${r.fields.text} ${i}` } }));
    const run = client.trainHead(builtinTemplate('sentiment')!, many, {}, (p) => (seen.push(p), p.done === 3 && abort.abort()), abort.signal);
    await expect(run).rejects.toMatchObject({ code: 'aborted' });
    // stopped while extracting features, not after them: the worker yields to read the abort
    expect(seen.every((p) => p.phase === 'features')).toBe(true);
    expect(seen.at(-1)!.done).toBeLessThan(many.length);
    // the engine is free again afterwards
    expect((await client.classify(builtinTemplate('sentiment')!, { text: 'fine' })).probabilities.length).toBe(2);
  });

  it('refuses a model without hidden states (such as web-llm) with a message', async () => {
    const noStates = { ...lm, tokenizer: lm.tokenizer, model: lm.model, config: lm.config, hiddenStates: undefined, generate: lm.generate.bind(lm), encode: lm.encode.bind(lm), dispose: () => {} } as unknown as LoadedModel;
    const engine = new InPageEngine(async () => ({ model: noStates, fromCache: false }));
    await engine.load({ url: 'http://test/plain/', engine: 'cpu' });
    await expect(engine.trainHead(builtinTemplate('sentiment')!, rows)).rejects.toMatchObject({ code: 'bad-argument', message: expect.stringMatching(/no hidden states/) });
  });
});
