// The built element (dist/, `npm run build` first) on pages served with a strict
// Content-Security-Policy (test/helpers/csp-headers.mjs sets it for URLs with ?csp=): in an
// iframe, so the policy is the page's and the worker's own, as on a real site.
import { expect } from 'chai';
import { until as waitUntil } from '../helpers/waits.ts';

const MODEL = '/test/fixtures/generated/smollm2-135m/';

interface ChatLike extends HTMLElement {
  readonly status: string;
  readonly messages: readonly { role: string; content: string }[];
  send(text: string): boolean;
}

const until = (what: string, ok: () => boolean, timeoutMs = 90_000) => waitUntil(what, ok, timeoutMs, 20);

const frames: HTMLIFrameElement[] = [];
afterEach(() => {
  for (const f of frames.splice(0)) f.remove();
});

/** The CSP page with policy `csp`, and its <gpt-chat> once the model is ready (or failed). */
async function cspPage(csp: string): Promise<{ el: ChatLike; ready: { backend: string; backendReason: string; notice?: string } }> {
  const frame = document.createElement('iframe');
  frame.src = `/test/helpers/csp-page.html?csp=${csp}&model=${encodeURIComponent(MODEL)}`;
  frame.style.cssText = 'width: 600px; height: 400px';
  document.body.append(frame);
  frames.push(frame);
  await until('the page', () => !!frame.contentDocument?.querySelector('gpt-chat'));
  const el = frame.contentDocument!.querySelector('gpt-chat') as ChatLike;
  let ready: { backend: string; backendReason: string; notice?: string } | undefined;
  let error: unknown;
  el.addEventListener('gpt-chat-ready', (e) => (ready = (e as CustomEvent).detail));
  el.addEventListener('gpt-chat-error', (e) => (error = (e as CustomEvent).detail));
  await until('ready', () => el.status === 'ready' || error !== undefined);
  if (error) throw new Error(`the model did not load: ${JSON.stringify(error)}`);
  expect(ready, 'the ready event (the listener is added before the load can finish)').to.not.equal(undefined);
  return { el, ready: ready! };
}

async function answer(el: ChatLike, text: string): Promise<string> {
  expect(el.send(text)).to.equal(true);
  await until('the reply', () => el.status === 'ready' && el.messages.length >= 2 && el.messages.at(-1)!.role === 'assistant');
  return el.messages.at(-1)!.content;
}

describe('<gpt-chat> on pages with a strict Content-Security-Policy', () => {
  it("script-src 'self' without 'wasm-unsafe-eval': the plain-JavaScript CPU path runs, and the notice and the header say so and why", async () => {
    const { el, ready } = await cspPage('strict');
    expect(ready.backend).to.equal('cpu');
    expect(ready.backendReason).to.contain('plain JavaScript, no WebAssembly');
    expect(ready.notice).to.match(/slow CPU path, in plain JavaScript without WebAssembly/);
    expect(ready.notice).to.contain("Content-Security-Policy blocks WebAssembly (script-src without 'wasm-unsafe-eval')");
    await (el as unknown as { updateComplete: Promise<unknown> }).updateComplete;
    const root = el.shadowRoot!;
    expect([...root.querySelectorAll('.notice')].map((n) => n.textContent).join(' ')).to.contain('plain JavaScript without WebAssembly');
    expect(root.querySelector('.model')?.textContent).to.contain('plain JavaScript, no WebAssembly');
    expect(await answer(el, 'hello')).to.be.a('string').and.not.equal('');
  });

  it("without blob: in worker-src, worker-url to a same-origin copy works, with WebAssembly where 'wasm-unsafe-eval' allows it", async () => {
    const { el, ready } = await cspPage('no-blob');
    expect(ready.backend).to.equal('cpu');
    expect(ready.backendReason).to.equal('asked for'); // the WebAssembly kernels run: nothing to say
    expect(ready.notice ?? '').not.to.contain('WebAssembly');
    expect(await answer(el, 'hello')).to.be.a('string').and.not.equal('');
  });
});
