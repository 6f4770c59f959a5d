// The engine's loader (src/engine/load-model.ts) over the real cache in headless Chromium: real
// IndexedDB, real HTTP from the test server. A cached model that does not load is never served
// again as complete; stored bytes damaged on disk are downloaded again, once, by the same load.
import { expect } from 'chai';
import { defaultStore, deleteCachedModel, isModelCached } from '../../src/cache/index.ts';
import { chunkKey, manifestKey, type ModelRecord } from '../../src/cache/manifest.ts';
import type { EngineLoadProgress } from '../../src/engine/engine.ts';
import { loadModel } from '../../src/engine/load-model.ts';

const url = (path: string) => new URL(path, location.href).href;
const load = (u: string, progress: EngineLoadProgress[] = []) =>
  loadModel({ url: u, engine: 'cpu' }, (p) => progress.push(p), new AbortController().signal);

describe('a cached model that fails to load', () => {
  it('a folder the runtime refuses (a model_type it does not run) is deleted from the cache, and the error says so', async () => {
    const u = url('/test/fixtures/generated/broken/unknown-model-type/');
    await deleteCachedModel(u).catch(() => {});
    const e = await load(u).catch((x: unknown) => x);
    expect(e).to.include({ code: 'unsupported-model' });
    expect((e as Error).message).to.match(/copy of this model on this device was deleted/);
    expect(await isModelCached(u)).to.equal(false); // not kept as complete: the next load fetches it again
  });

  for (const [folder, code] of [['config-not-json', 'bad-json'], ['missing-tensor', 'file-missing']] as const) {
    it(`${folder} (${code}; the broken fixtures have no tokenizer.json): the same`, async () => {
      const u = url(`/test/fixtures/generated/broken/${folder}/`);
      const e = await load(u).catch((x: unknown) => x);
      expect(e).to.include({ code });
      expect(await isModelCached(u)).to.equal(false);
    });
  }

  it('a stored chunk damaged on disk: the load downloads that chunk again and succeeds', async () => {
    const u = url('/test/fixtures/generated/smollm2-135m/');
    await deleteCachedModel(u).catch(() => {});
    (await load(u)).model.dispose();
    expect(await isModelCached(u)).to.equal(true);

    // Flip bytes of the first weights chunk, as a failing disk or a half-written page would.
    const store = defaultStore();
    const manifest = (await store.get<ModelRecord>(manifestKey(u)))!;
    const weights = manifest.files.find((f) => f.name === 'model.safetensors')!;
    const key = chunkKey(u, weights, 0);
    const bytes = (await store.get<Uint8Array>(key))!.slice();
    for (let i = 1000; i < 1100; i++) bytes[i] = bytes[i]! ^ 0xff;
    await store.write([[key, bytes]]);

    const progress: EngineLoadProgress[] = [];
    const repaired = await load(u, progress);
    const { model } = repaired;
    model.dispose();
    expect(repaired.fromCache).to.equal(false); // the damaged chunk came from the network again
    expect(await isModelCached(u)).to.equal(true);
  });
});
