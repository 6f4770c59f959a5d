// <gpt-chat engine="webgpu"> on a model this GPU cannot run at all, on the real engine (the built
// worker bundle, `npm run build` first) and Chromium's real WebGPU adapter (SwiftShader here: 1 GiB
// storage bindings): the fixture gpu-misfit/ (tools/make-fixtures.mjs, config only) needs a 1.5 GiB
// KV cache layer. The worker refuses it from config.json, before the download: the error is in the
// element, and the test server (test/helpers/model-server.mjs) sent no byte of the weights.
import { expect } from 'chai';
import { ChatStatus } from '../../src/element/chat-controller.ts';
import { memoryConversationStore } from '../../src/element/conversation-store.ts';
import { GptChat } from '../../src/gpt-chat.ts';
import { sleep, until } from '../helpers/waits.ts';

const WORKER = '/dist/gpt-chat-worker.js';
const MODEL = '/test-models/gpu-misfit/';
const control = (body: unknown) => fetch('/test-models/_control', { method: 'POST', body: JSON.stringify(body) });
const stats = async (): Promise<{ requests: Record<string, number>; bytes: Record<string, number> }> => (await fetch('/test-models/_stats')).json();

describe('<gpt-chat engine="webgpu"> on a model no binding of this GPU holds', () => {
  it('shows gpu-out-of-memory with what it needs and what to do, and downloads nothing', async function () {
    const adapter = 'gpu' in navigator ? await navigator.gpu.requestAdapter() : null;
    if (!adapter) {
      console.warn('SKIPPED: no WebGPU adapter in this Chromium');
      this.skip();
    }
    const limit = Math.min(adapter!.limits.maxStorageBufferBindingSize, adapter!.limits.maxBufferSize);
    expect(limit, 'the fixture is sized for bindings under 1.5 GiB').to.be.lessThan(2048 * 196608 * 4);
    await control({ reset: true });
    GptChat.deps = { store: memoryConversationStore() };
    const el = document.createElement('gpt-chat');
    const errors: { code: string; message: string }[] = [];
    el.addEventListener('gpt-chat-error', (e) => errors.push(e.detail));
    for (const [k, v] of Object.entries({ 'worker-url': WORKER, engine: 'webgpu', model: MODEL })) el.setAttribute(k, v);
    document.body.append(el);
    try {
      await until('the error', () => el.status === ChatStatus.error);
      await el.updateComplete;
      expect(errors.map((e) => e.code)).to.deep.equal(['gpu-out-of-memory']);
      const shown = el.shadowRoot!.querySelector('.error')!.textContent!;
      expect(shown).to.contain('one layer of the KV cache (2048 positions x 196608 floats) needs 1.5 GiB (1610612736 bytes)');
      expect(shown).to.contain(`this GPU binds at most`).and.to.contain(`(${limit} bytes) as one buffer`);
      expect(shown).to.contain('Nothing was downloaded.');
      expect(shown).to.match(/use engine="auto" or engine="cpu".*contextLength of at most \d+ tokens/);
      const { requests, bytes } = await stats();
      expect(requests[`${MODEL}model.safetensors`] ?? 0, 'requests for the weights').to.equal(0);
      expect(Object.keys(bytes).filter((p) => bytes[p]! > 0)).to.deep.equal([`${MODEL}config.json`]);
    } finally {
      el.remove();
      GptChat.deps = {};
      await sleep(1100); // the element lets go of its engine (and worker) a second after leaving the page
    }
  });
});
