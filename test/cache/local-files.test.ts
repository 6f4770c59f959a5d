// Files from this computer, in Node (Blob and File are Node's own), on a generated fixture folder:
// which files make the model, the `local:` id, storing (the in-memory store), loading the stored
// copy, export byte for byte, and the loader's path with a bad folder.
import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { exportCachedModel, listCachedModels, memoryStore, openCachedModel, planLocalModel, storeLocalModel } from '../../src/cache/index.ts';
import { modelLoader } from '../../src/engine/load-model.ts';
import type { EngineLoadProgress } from '../../src/engine/engine.ts';
import { GptError } from '../../src/errors.ts';
import { pickLocalModel, type PickedFile } from '../../src/formats/local-files.ts';
import { loadLanguageModel } from '../../src/runtime/index.ts';

const DIR = 'test/fixtures/generated/smollm2-135m';
const folder = (extra: PickedFile[] = []): PickedFile[] => [
  ...readdirSync(DIR).map((n) => ({ path: `smollm2/${n}`, blob: new Blob([readFileSync(`${DIR}/${n}`)]) })),
  ...extra,
];
const noop = () => {};

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return `${(e as GptError).code}: ${(e as GptError).message}`;
  }
  return 'no error';
}

describe('pickLocalModel', () => {
  it("keeps a folder's model files and leaves the rest out", () => {
    const m = pickLocalModel(folder([
      { path: 'smollm2/README.md', blob: new Blob(['x']) },
      { path: 'smollm2/onnx/model.onnx', blob: new Blob(['x']) },
    ]));
    expect(m.name).toBe('smollm2');
    expect(m.ggufFile).toBeUndefined();
    expect(m.files.map((f) => f.name).sort()).toEqual(['config.json', 'generation_config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json']);
  });

  it('takes one .gguf, loose or in a folder, and refuses what is no model', () => {
    expect(pickLocalModel([{ path: 'x.gguf', blob: new Blob(['GGUF']) }])).toMatchObject({ name: 'x.gguf', ggufFile: 'x.gguf' });
    expect(pickLocalModel([{ path: 'd/x.gguf', blob: new Blob(['GGUF']) }, { path: 'd/README.md', blob: new Blob([]) }]).ggufFile).toBe('x.gguf');
    expect(() => pickLocalModel([{ path: 'd/README.md', blob: new Blob([]) }])).toThrow(/d\/ has no config\.json \(found README\.md\)/);
    expect(() => pickLocalModel([{ path: 'd/config.json', blob: new Blob(['{}']) }])).toThrow(/config\.json but no \.safetensors/);
    expect(() => pickLocalModel([{ path: 'a.gguf', blob: new Blob([]) }, { path: 'b.gguf', blob: new Blob([]) }])).toThrow(/2 GGUF files/);
    expect(() => pickLocalModel([{ path: 'm-00001-of-00002.gguf', blob: new Blob([]) }])).toThrow(/sharded GGUF/);
    expect(() => pickLocalModel([])).toThrow(/No files/);
  });
});

describe('storing local files', () => {
  it('gives an id from the contents, stores byte for byte, loads from the store, exports the same bytes', async () => {
    const model = pickLocalModel(folder());
    const plan = await planLocalModel(model, 64 * 1024);
    expect(plan.id).toMatch(/^local:[0-9a-f]{16}\/smollm2\/$/);
    // the same contents in another order: the same id; one byte changed: another
    expect((await planLocalModel({ ...model, files: [...model.files].reverse() }, 64 * 1024)).id).toBe(plan.id);
    const changed = model.files.map((f) => (f.name === 'config.json' ? { ...f, blob: new Blob([f.blob, ' ']) } : f));
    expect((await planLocalModel({ ...model, files: changed }, 64 * 1024)).id).not.toBe(plan.id);

    const store = memoryStore();
    const manifest = await storeLocalModel(plan, store, { storage: undefined });
    expect(manifest.complete).toBe(true);
    expect((await listCachedModels(store)).map((m) => [m.url, m.complete])).toEqual([[plan.id, true]]);
    const files = await openCachedModel(plan.id, { store });
    expect(files.fromCache).toBe(true);
    const lm = await loadLanguageModel(files, { backend: 'cpu' });
    expect(lm.config.modelType).toBe('llama');
    lm.dispose();
    const exported = await exportCachedModel(plan.id, store);
    for (const f of model.files) {
      const out = exported.find((x) => x.name === f.name)!;
      expect(new Uint8Array(await out.arrayBuffer()), f.name).toEqual(new Uint8Array(await f.blob.arrayBuffer()));
    }
  });

  it('a file that changed between the passes: nothing is kept', async () => {
    const model = pickLocalModel(folder());
    const plan = await planLocalModel(model, 64 * 1024);
    const store = memoryStore();
    const swapped = { ...plan, model: { ...model, files: model.files.map((f) => (f.name === 'model.safetensors' ? { ...f, blob: new Blob([new Uint8Array(f.blob.size)]) } : f)) } };
    expect(await codeOf(storeLocalModel(swapped, store, { storage: undefined }))).toMatch(/^integrity: smollm2\/model\.safetensors changed on disk/);
    expect(await store.keys([])).toEqual([]);
  });

  it('a local: id that is not stored is not fetched: it says to choose the files again', async () => {
    expect(await codeOf(openCachedModel('local:0123456789abcdef/x/', { store: memoryStore(), fetch: () => Promise.reject(new Error('fetched')) }))).toMatch(/^file-missing: .*choose its files again/);
  });
});

describe('the loader on local files', () => {
  const load = (store: ReturnType<typeof memoryStore>, files: PickedFile[], keep?: boolean) =>
    modelLoader({ store })({ url: 'local:load-1/smollm2/', engine: 'cpu', files, ...(keep === undefined ? {} : { keep }) }, noop as (p: EngineLoadProgress) => void, new AbortController().signal);

  it('stores a good folder once, and recognises it when chosen again', async () => {
    const store = memoryStore();
    const first = await load(store, folder());
    expect(first.url).toMatch(/^local:[0-9a-f]{16}\/smollm2\/$/);
    expect(first.fromCache).toBe(false);
    first.model.dispose();
    const second = await load(store, folder());
    expect(second).toMatchObject({ url: first.url, fromCache: true });
    second.model.dispose();
    expect((await listCachedModels(store)).length).toBe(1);
  });

  it('keep: false stores nothing', async () => {
    const store = memoryStore();
    const r = await load(store, folder(), false);
    r.model.dispose();
    expect(await store.keys([])).toEqual([]);
  });

  it('a truncated safetensors fails naming the folder and the file, and nothing is stored', async () => {
    const store = memoryStore();
    const files = folder().map((f) => (f.path.endsWith('model.safetensors') ? { ...f, blob: f.blob.slice(0, f.blob.size - 100) } : f));
    expect(await codeOf(load(store, files))).toMatch(/^bad-safetensors: In the chosen folder smollm2\/: model\.safetensors is not a valid safetensors file/);
    expect(await store.keys([])).toEqual([]);
  });
});
