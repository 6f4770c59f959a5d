// Model files from this computer in <gpt-chat>, on the real engine (dist/gpt-chat-worker.js, `npm
// run build` first): Files set on the element's real file inputs (through a DataTransfer), dropped on
// it, or a real FileSystemDirectoryHandle (the origin private file system); the worker checks them
// with the same parsers as a download, runs them, stores them under a `local:` id, and the next
// element loads that id from IndexedDB. Export gives the stored bytes back.
import { expect } from 'chai';
import { clearCache, listCachedModels } from '../../src/cache/index.ts';
import { ChatStatus } from '../../src/element/chat-controller.ts';
import { memoryConversationStore } from '../../src/element/conversation-store.ts';
import { GptChat } from '../../src/gpt-chat.ts';
import { loadLanguageModel } from '../../src/runtime/index.ts';

const WORKER = '/dist/gpt-chat-worker.js';
const FOLDER = '/test/fixtures/generated/smollm2-135m/';
const FOLDER_FILES = ['config.json', 'generation_config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json'];
const GGUF = '/test-models/gguf-fixtures/smollm2-135m.gguf';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const control = (body: unknown) => fetch('/test-models/_control', { method: 'POST', body: JSON.stringify(body) });
const stats = async (): Promise<{ requests: Record<string, number> }> => (await fetch('/test-models/_stats')).json();

async function file(url: string, name = url.split('/').pop()!): Promise<File> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url}: ${res.status} (run \`npm run fixtures\`)`);
  return new File([await res.blob()], name);
}
const folderFiles = () => Promise.all(FOLDER_FILES.map((n) => file(FOLDER + n)));
const bytes = async (b: Blob) => new Uint8Array(await b.arrayBuffer());

const elements: GptChat[] = [];
/** An element whose own model is a `local:` id never stored: it fails at once, with no request. */
async function element(model = 'local:0000000000000000/nothing/'): Promise<GptChat> {
  GptChat.deps = { store: memoryConversationStore() };
  const el = document.createElement('gpt-chat');
  for (const [k, v] of Object.entries({ 'worker-url': WORKER, engine: 'cpu', temperature: '0', 'max-tokens': '12', model })) el.setAttribute(k, v);
  document.body.append(el);
  elements.push(el);
  await el.updateComplete;
  return el;
}

const event = <T>(el: GptChat, type: 'gpt-chat-ready' | 'gpt-chat-error') => new Promise<T>((r) => el.addEventListener(type, (e) => r((e as CustomEvent<T>).detail), { once: true }));

/** Sets `files` on the element's file input `part` as a user's choice does, and fires `change`. */
function choose(el: GptChat, part: 'folder-input' | 'gguf-input', files: File[]): void {
  const input = el.shadowRoot!.querySelector<HTMLInputElement>(`[part="${part}"]`)!;
  const dt = new DataTransfer();
  for (const f of files) dt.items.add(f);
  input.files = dt.files;
  input.dispatchEvent(new Event('change', { bubbles: true }));
}

async function reply(el: GptChat, text: string): Promise<string> {
  const done = new Promise<string>((r) => el.addEventListener('gpt-chat-message', (e) => r(e.detail.content), { once: true }));
  el.send(text);
  return done;
}

/** The runtime's own greedy reply on the model at `url`, in this page. */
async function expectedReply(url: string, text: string): Promise<string> {
  const lm = await loadLanguageModel(new URL(url, location.href).href, { backend: 'cpu' });
  let out = '';
  for await (const t of lm.generate([{ role: 'user', content: text }], { maxTokens: 12, temperature: 0 })) out += t.text;
  lm.dispose();
  return out;
}

beforeEach(() => clearCache());
afterEach(async () => {
  for (const el of elements.splice(0)) el.remove();
  GptChat.deps = {};
  await sleep(1100); // elements let go of their engine a second after leaving the page
});

describe('<gpt-chat> with model files from this computer', () => {
  it('loads a folder through the file input, chats, stores it under a local: id, and loads that id again from the cache', async () => {
    const el = await element();
    expect(el.shadowRoot!.querySelector('[part="folder-input"]')!.hasAttribute('webkitdirectory')).to.equal(true);
    const ready = event<{ url: string; fromCache: boolean; modelType: string }>(el, 'gpt-chat-ready');
    choose(el, 'folder-input', await folderFiles());
    const info = await ready;
    expect(info.url).to.match(/^local:[0-9a-f]{16}\/local-model\/$/);
    expect(info.fromCache).to.equal(false);
    expect(info.modelType).to.equal('llama');
    const answer = await reply(el, 'hello');
    expect(answer.length).to.be.greaterThan(0);
    expect(answer).to.equal(await expectedReply(FOLDER, 'hello'));

    const stored = (await listCachedModels()).find((m) => m.url === info.url);
    expect(stored, 'in the cache').to.exist;
    expect(stored!.complete).to.equal(true);
    expect([...stored!.files].sort()).to.deep.equal(FOLDER_FILES);

    // The next visit names the id: served from IndexedDB (a local: id is never fetched), same replies.
    const again = await element(info.url);
    const second = await event<{ url: string; fromCache: boolean }>(again, 'gpt-chat-ready');
    expect(second).to.include({ url: info.url, fromCache: true });
    expect(await reply(again, 'hello')).to.equal(answer);

    // The same files chosen again are recognised by their contents: not stored twice.
    const third = event<{ url: string; fromCache: boolean }>(again, 'gpt-chat-ready');
    choose(again, 'folder-input', (await folderFiles()).reverse());
    expect(await third).to.include({ url: info.url, fromCache: true });
    expect((await listCachedModels()).length).to.equal(1);
  });

  it('loads one .gguf through its file input, and the stored copy again with no request', async () => {
    await control({ reset: true });
    const gguf = await file(GGUF);
    const el = await element();
    const ready = event<{ url: string; fromCache: boolean }>(el, 'gpt-chat-ready');
    choose(el, 'gguf-input', [gguf]);
    const info = await ready;
    expect(info.url).to.match(/^local:[0-9a-f]{16}\/smollm2-135m\.gguf$/);
    expect(el.shadowRoot!.querySelector('.header')!.textContent).to.contain('smollm2-135m.gguf');
    const answer = await reply(el, 'hi');
    expect(answer).to.equal(await expectedReply(GGUF, 'hi'));
    await control({ reset: true });
    const again = await element(info.url);
    expect(await event(again, 'gpt-chat-ready')).to.include({ fromCache: true });
    expect(await reply(again, 'hi')).to.equal(answer);
    expect((await stats()).requests[GGUF] ?? 0, 'requests for the file').to.equal(0);
  });

  it('loads a folder dropped on the element (a drop event carrying Files)', async () => {
    const el = await element();
    const ready = event<{ url: string }>(el, 'gpt-chat-ready');
    const dt = new DataTransfer();
    for (const f of await folderFiles()) dt.items.add(f);
    const over = new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true, composed: true });
    el.dispatchEvent(over);
    expect(over.defaultPrevented, 'dragover accepted').to.equal(true);
    expect(el.hasAttribute('dragging')).to.equal(true);
    const drop = new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true, composed: true });
    el.dispatchEvent(drop);
    expect(drop.defaultPrevented, 'the browser does not open the file').to.equal(true);
    expect(el.hasAttribute('dragging')).to.equal(false);
    expect((await ready).url).to.match(/^local:[0-9a-f]{16}\/local-model\/$/);
    expect(el.status).to.equal(ChatStatus.ready);
  });

  it('a folder without config.json, or with a truncated safetensors, fails naming the file and stores nothing', async () => {
    const el = await element();
    let failed = event<{ code: string; message: string }>(el, 'gpt-chat-error');
    const noConfig = (await folderFiles()).filter((f) => f.name !== 'config.json');
    choose(el, 'folder-input', noConfig);
    let error = await failed;
    expect(error.code).to.equal('file-missing');
    expect(error.message).to.contain('no config.json');
    await el.updateComplete;
    expect(el.shadowRoot!.querySelector('.error')!.textContent).to.contain('config.json');

    failed = event(el, 'gpt-chat-error');
    const weights = await file(FOLDER + 'model.safetensors');
    const truncated = new File([weights.slice(0, weights.size - 100)], 'model.safetensors');
    choose(el, 'folder-input', [...(await folderFiles()).filter((f) => f.name !== 'model.safetensors'), truncated]);
    error = await failed;
    expect(error.code).to.equal('bad-safetensors');
    expect(error.message).to.match(/^In the chosen folder local-model\/: model\.safetensors is not a valid safetensors file/);
    expect(el.status).to.equal(ChatStatus.error);
    expect(await listCachedModels(), 'nothing stored').to.deep.equal([]);
  });

  it('loads from a folder handle and exports the stored model byte for byte, as Files and into a folder', async () => {
    const root = await navigator.storage.getDirectory();
    await root.removeEntry('gpt-chat-test', { recursive: true }).catch(() => {});
    const dir = await (await root.getDirectoryHandle('gpt-chat-test', { create: true })).getDirectoryHandle('SmolLM2 fixture', { create: true });
    const originals = await folderFiles();
    for (const f of originals) {
      const w = await (await dir.getFileHandle(f.name, { create: true })).createWritable();
      await w.write(f);
      await w.close();
    }
    const el = await element();
    const info = await el.loadFiles(dir);
    expect(info.url).to.match(/^local:[0-9a-f]{16}\/SmolLM2%20fixture\/$/);
    expect(el.shadowRoot!.querySelector('.header')!.textContent).to.contain('SmolLM2 fixture');

    const exported = await el.exportCachedModel(info.url, 'none');
    expect(exported.map((f) => f.name).sort()).to.deep.equal(FOLDER_FILES);
    for (const f of originals) {
      const out = exported.find((x) => x.name === f.name)!;
      expect(await bytes(out), f.name).to.deep.equal(await bytes(f));
    }
    const target = await (await root.getDirectoryHandle('gpt-chat-test')).getDirectoryHandle('export', { create: true });
    await el.exportCachedModel(info.url, target);
    const written = await target.getDirectoryHandle('SmolLM2 fixture');
    for (const f of originals) expect(await bytes(await (await written.getFileHandle(f.name)).getFile()), f.name).to.deep.equal(await bytes(f));
    await root.removeEntry('gpt-chat-test', { recursive: true });
  });
});
