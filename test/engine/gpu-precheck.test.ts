// engine="webgpu" on a model no binding of this GPU holds is refused before the download, from
// config.json alone (src/engine/gpu-precheck.ts), through the real loader (cache + runtime) and a
// real HTTP server (test/helpers/model-server.mjs) that counts every byte it sends.
// TEST SEAM: the adapter's limits (`gpuLimits`): Node has no navigator.gpu, so the tests pass Dawn's
// adapter's real limits (adapterLimits over nodeGpu), or the spec's minimum binding as a stand-in
// for a smaller adapter.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { memoryStore } from '../../src/cache/index.ts';
import { refuseWhatNoGpuRuns } from '../../src/engine/gpu-precheck.ts';
import { InPageEngine } from '../../src/engine/in-page-engine.ts';
import { modelLoader } from '../../src/engine/load-model.ts';
import { nodeGpu } from '../../src/node.ts';
import { adapterLimits } from '../../src/runtime/index.ts';
import { SPEC_MIN_BINDING_BYTES } from '../../src/runtime/webgpu/gpu-fit.ts';
// @ts-expect-error a plain JS module shared with the browser tests
import { createModelServer } from '../helpers/model-server.mjs';

const generated = (dir: string) => fileURLToPath(new URL(`../fixtures/generated/${dir}/`, import.meta.url));
const dawnLimits = () => adapterLimits({ gpu: nodeGpu });
const specMinimum = async () => ({ maxStorageBufferBindingSize: SPEC_MIN_BINDING_BYTES, maxBufferSize: 256 * 1024 * 1024 });

let server: Server;
let root = '';
let wideVocab = ''; // a config-only folder: the llama fixture with a 600000-token vocabulary
const stats = async (): Promise<{ requests: Record<string, number>; bytes: Record<string, number> }> => (await fetch(`${root}_stats`)).json();

beforeAll(async () => {
  wideVocab = mkdtempSync(join(tmpdir(), 'gpt-chat-wide-vocab-'));
  const config = JSON.parse(readFileSync(join(generated('llama'), 'config.json'), 'utf8'));
  writeFileSync(join(wideVocab, 'config.json'), JSON.stringify({ ...config, vocab_size: 600_000 }));
  for (const f of ['tokenizer.json', 'model.safetensors']) writeFileSync(join(wideVocab, f), readFileSync(join(generated('llama'), f)));
  const models = createModelServer({ dirs: { misfit: generated('gpu-misfit'), wide: wideVocab, llama: generated('llama') } });
  server = createServer((req, res) => {
    if (!models.handle(req, res)) res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  root = `http://127.0.0.1:${(server.address() as { port: number }).port}/test-models/`;
});
afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  rmSync(wideVocab, { recursive: true, force: true });
});
beforeEach(async () => {
  await fetch(`${root}_control`, { method: 'POST', body: JSON.stringify({ reset: true }) });
});

const sent = async () => Object.entries((await stats()).bytes).filter(([, n]) => n > 0).map(([path]) => path.slice('/test-models/'.length));

describe('engine="webgpu" on a model this GPU cannot run', () => {
  it("a KV cache layer past Dawn's 1 GiB binding: gpu-out-of-memory, with only config.json fetched", async () => {
    const engine = new InPageEngine(modelLoader({ store: memoryStore(), gpuLimits: dawnLimits }));
    const error = await engine.load({ url: `${root}misfit/`, engine: 'webgpu' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'gpu-out-of-memory' });
    const { message } = error as Error;
    expect(message).toContain('one layer of the KV cache (2048 positions x 196608 floats) needs 1.5 GiB (1610612736 bytes)');
    expect(message).toContain('this GPU binds at most 1.0 GiB (1073741824 bytes) as one buffer (its maxStorageBufferBindingSize)');
    expect(message).toContain('Nothing was downloaded.');
    expect(message).toMatch(/Hint: use engine="auto" or engine="cpu", which run it from main memory, or a contextLength of at most 1365 tokens\.$/);
    expect(await sent()).toEqual(['misfit/config.json']);
    expect((await stats()).requests['/test-models/misfit/model.safetensors'] ?? 0).toBe(0);
    engine.dispose();
  });

  it('the context length asked for counts: at 1365 tokens the check passes (and the download starts)', async () => {
    await refuseWhatNoGpuRuns({ url: `${root}misfit/`, engine: 'webgpu', contextLength: 1365 }, { store: memoryStore(), gpuLimits: dawnLimits });
    const error = await refuseWhatNoGpuRuns({ url: `${root}misfit/`, engine: 'webgpu', contextLength: 1366 }, { store: memoryStore(), gpuLimits: dawnLimits }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'gpu-out-of-memory' });
  });

  it('logits past the spec-minimum binding (a stand-in for a smaller adapter): no context hint, no weights fetched', async () => {
    const engine = new InPageEngine(modelLoader({ store: memoryStore(), gpuLimits: specMinimum }));
    const error = await engine.load({ url: `${root}wide`, engine: 'webgpu' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'gpu-out-of-memory', message: expect.stringContaining('the logits (64 x 600000 floats) needs 146.5 MiB (153600000 bytes), but this GPU binds at most 128.0 MiB') });
    expect((error as Error).message).not.toContain('contextLength');
    expect(await sent()).toEqual(['wide/config.json']);
    engine.dispose();
  });

  it('a model that fits passes with one request, for config.json', async () => {
    await refuseWhatNoGpuRuns({ url: `${root}llama/`, engine: 'webgpu' }, { store: memoryStore(), gpuLimits: specMinimum });
    expect(await sent()).toEqual(['llama/config.json']);
  });

  it("asks nothing for engine auto or cpu (auto's fallback needs the download), nor without an adapter", async () => {
    const gpuLimits = async () => {
      throw new Error('the limits were read');
    };
    for (const engine of ['auto', 'cpu'] as const) await refuseWhatNoGpuRuns({ url: `${root}misfit/`, engine }, { store: memoryStore(), gpuLimits });
    await refuseWhatNoGpuRuns({ url: `${root}misfit/`, engine: 'webgpu' }, { store: memoryStore(), gpuLimits: async () => null });
    expect(await sent()).toEqual([]);
  });
});
