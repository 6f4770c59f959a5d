// <gpt-chat> in headless Chromium with a scripted engine: attributes, events, keyboard, stop,
// regenerate, clear, persistence, context trimming, error states, XSS corpus, accessibility.
// The real worker and models are in element-engine.browser.test.ts.
import { expect } from 'chai';
import { sendKeys } from '@web/test-runner-commands';
import { ChatStatus } from '../../src/element/chat-controller.ts';
import { idbConversationStore, memoryConversationStore, type ConversationStore } from '../../src/element/conversation-store.ts';
import { GptChat } from '../../src/gpt-chat.ts';
import { GptError } from '../../src/errors.ts';
import { ScriptedEngine, shown, sleep, until } from '../helpers/scripted-engine.ts';

// Mocha's globals in @web/test-runner (module-scoped, so they cannot clash with other typings).

let engine: ScriptedEngine;
let store: ConversationStore;
const elements: HTMLElement[] = [];

/** A new <gpt-chat> on the scripted engine, connected and ready. */
async function chat(attrs: Record<string, string> = {}, options: { bytes?: number; wait?: boolean } = {}): Promise<GptChat> {
  GptChat.deps = {
    createEngine: () => engine,
    store,
  };
  engine.bytes = options.bytes ?? 1000;
  const el = document.createElement('gpt-chat');
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  el.style.height = '400px';
  document.body.append(el);
  elements.push(el);
  await el.updateComplete;
  if (options.wait !== false) await until('ready', () => el.status === ChatStatus.ready);
  return el;
}

const root = (el: GptChat) => el.shadowRoot!;
const q = <T extends Element = HTMLElement>(el: GptChat, sel: string) => root(el).querySelector(sel) as T | null;
const replies = (el: GptChat) => [...root(el).querySelectorAll('.message.assistant')];

/** Sends `text` and waits for the reply to finish. */
async function exchange(el: GptChat, text: string): Promise<void> {
  const before = el.messages.length;
  expect(el.send(text)).to.equal(true);
  await until('reply', () => el.status === ChatStatus.ready && el.messages.length === before + 2);
  await el.updateComplete;
}

beforeEach(() => {
  engine = new ScriptedEngine();
  store = memoryConversationStore();
});
afterEach(() => {
  for (const el of elements.splice(0)) el.remove();
  GptChat.deps = {};
});

describe('<gpt-chat> attributes and rendering', () => {
  it('registers, renders a labelled input with the placeholder and a role=log region', async () => {
    const el = await chat({ placeholder: 'Ask away' });
    expect(customElements.get('gpt-chat')).to.equal(GptChat);
    const input = q<HTMLTextAreaElement>(el, 'textarea')!;
    expect(input.placeholder).to.equal('Ask away');
    expect(q(el, `label[for="${input.id}"]`)?.textContent?.trim()).to.equal('Message to the assistant');
    const log = q(el, '[part="log"]')!;
    expect(log.getAttribute('role')).to.equal('log');
    expect(log.getAttribute('aria-label')).to.equal('Conversation');
  });

  it('sends the system prompt and the sampling attributes', async () => {
    const el = await chat({ 'system-prompt': 'Be brief.', temperature: '0.2', 'top-p': '0.5', 'max-tokens': '32' });
    await exchange(el, 'hi');
    const { messages, options } = engine.requests[0]!;
    expect(messages).to.deep.equal([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'hi' },
    ]);
    expect(options).to.include({ temperature: 0.2, topP: 0.5, maxTokens: 32 });
  });

  it('renders replies as markdown and the user text as plain text', async () => {
    const el = await chat();
    await exchange(el, '**not bold** from the user');
    expect(shown(q(el, '.message.user')!)).to.equal('**not bold** from the user');
    expect(q(el, '.message.assistant strong')!.textContent).to.equal('there');
  });

  it('loads the model named by the attribute, and a new one when it changes', async () => {
    const loaded: string[] = [];
    const el = await chat({ model: '/models/a/' });
    el.addEventListener('gpt-chat-ready', (e) => loaded.push(e.detail.url));
    el.setAttribute('model', '/models/b/');
    await until('second load', () => loaded.length === 1);
    expect(loaded[0]).to.equal(new URL('/models/b/', location.href).href);
    expect(engine.loads).to.equal(2);
  });

  it('asks the engine to quantize on load as the quantize attribute says, and reloads when it changes', async () => {
    const el = await chat({ quantize: 'q4_0' });
    expect(engine.specs[0]!.quantize).to.equal('q4_0');
    el.setAttribute('quantize', 'q8_0');
    await until('second load', () => engine.loads === 2);
    expect(engine.specs[1]!.quantize).to.equal('q8_0');
    el.removeAttribute('quantize');
    await until('third load', () => engine.loads === 3);
    expect(engine.specs[2]!.quantize).to.equal(undefined);
  });
});

describe('<gpt-chat> events', () => {
  it('fires progress, ready, several tokens then message, all bubbling out of the shadow root', async () => {
    const seen: string[] = [];
    const record = (e: Event) => seen.push(e.type);
    const types = ['gpt-chat-load-progress', 'gpt-chat-ready', 'gpt-chat-token', 'gpt-chat-message'] as const;
    for (const t of types) document.addEventListener(t, record);
    try {
      const el = await chat();
      let message: GptChatMessageDetail | undefined;
      document.addEventListener('gpt-chat-message', (e) => (message = e.detail), { once: true });
      await exchange(el, 'hello');
      expect(seen.slice(0, 3)).to.deep.equal(['gpt-chat-load-progress', 'gpt-chat-load-progress', 'gpt-chat-ready']);
      const tokens = seen.filter((t) => t === 'gpt-chat-token').length;
      expect(tokens).to.be.greaterThan(3);
      expect(seen.at(-1)).to.equal('gpt-chat-message');
      expect(message).to.deep.equal({ role: 'assistant', content: 'Hello **there**, friend.', finishReason: 'eos', promptTokens: 1 });
    } finally {
      for (const t of types) document.removeEventListener(t, record);
    }
  });
});
type GptChatMessageDetail = HTMLElementEventMap['gpt-chat-message']['detail'];

describe('<gpt-chat> keyboard', () => {
  it('Enter sends, Shift+Enter is a newline, Escape stops', async () => {
    engine.delayMs = 30;
    const el = await chat();
    const input = q<HTMLTextAreaElement>(el, 'textarea')!;
    input.focus();
    await sendKeys({ type: 'line one' });
    await sendKeys({ down: 'Shift' });
    await sendKeys({ press: 'Enter' });
    await sendKeys({ up: 'Shift' });
    await sendKeys({ type: 'line two' });
    expect(input.value).to.equal('line one\nline two');
    expect(el.messages.length).to.equal(0);
    await sendKeys({ press: 'Enter' });
    expect(input.value).to.equal('');
    expect(el.messages[0]).to.deep.equal({ role: 'user', content: 'line one\nline two' });
    await until('generating', () => el.status === ChatStatus.generating);
    await sendKeys({ press: 'Escape' });
    await until('stopped', () => el.status === ChatStatus.ready);
    expect(engine.requests.length).to.equal(1);
  });

  it('is usable with Tab alone: every control is reachable and has a name', async () => {
    const el = await chat();
    await exchange(el, 'hi');
    const focusable = [...root(el).querySelectorAll<HTMLElement>('button, textarea, [tabindex="0"]')];
    for (const f of focusable) {
      const name = f.getAttribute('aria-label') || f.textContent?.trim() || (f.id && q(el, `label[for="${f.id}"]`)?.textContent);
      expect(name, f.outerHTML).to.be.ok;
      expect(f.tabIndex).to.be.at.least(0);
    }
    expect(focusable.map((f) => f.getAttribute('part') ?? f.className)).to.include.members(['log', 'input', 'send-button', 'clear-button']);
  });
});

describe('<gpt-chat> stop, regenerate, clear', () => {
  it('stops mid-stream and keeps the partial reply', async () => {
    engine.delayMs = 20;
    const el = await chat();
    const done = new Promise<GptChatMessageDetail>((r) => el.addEventListener('gpt-chat-message', (e) => r(e.detail), { once: true }));
    el.send('long one');
    await until('two tokens', () => shown(el.shadowRoot!.querySelector('.streaming:not(:has(.reading))')).length >= 6);
    expect(q(el, '.cursor'), 'a visible cursor while streaming').to.exist;
    q<HTMLButtonElement>(el, '[part="stop-button"]')!.click();
    const detail = await done;
    expect(detail.finishReason).to.equal('aborted');
    expect(detail.content.length).to.be.greaterThan(0);
    expect(detail.content.length).to.be.lessThan('Hello **there**, friend.'.length);
    await el.updateComplete;
    expect(el.messages.at(-1)).to.deep.equal({ role: 'assistant', content: detail.content });
    expect(q(el, '[part="send-button"]')).to.exist;
  });

  it('regenerate replaces the last reply', async () => {
    engine.replies = ['First answer.', 'Second answer.'];
    const el = await chat();
    await exchange(el, 'question');
    q<HTMLButtonElement>(el, '.regenerate')!.click();
    await until('second reply', () => engine.requests.length === 2 && el.status === ChatStatus.ready && el.messages.length === 2);
    expect(el.messages.map((m) => m.content)).to.deep.equal(['question', 'Second answer.']);
    expect(engine.requests[1]!.messages).to.deep.equal([{ role: 'user', content: 'question' }]);
    expect(engine.requests[0]!.options.seed).to.not.equal(engine.requests[1]!.options.seed);
  });

  it('clear forgets the conversation and its stored copy', async () => {
    const el = await chat({ persist: 'clear-test' });
    await exchange(el, 'remember me');
    expect((await store.load('clear-test')).length).to.equal(2);
    q<HTMLButtonElement>(el, '[part="clear-button"]')!.click();
    await el.updateComplete;
    expect(el.messages).to.deep.equal([]);
    expect(replies(el).length).to.equal(0);
    await sleep(20);
    expect(await store.load('clear-test')).to.deep.equal([]);
  });
});

describe('<gpt-chat> persistence', () => {
  it('restores a conversation from IndexedDB in a new element (a reload)', async () => {
    store = idbConversationStore(`gpt-chat-test-${Math.random()}`);
    const first = await chat({ persist: 'reload' });
    await exchange(first, 'keep this');
    // The reply is saved right after it finishes; a reload before that write would lose it.
    for (let i = 0; i < 100 && (await store.load('reload')).length < 2; i++) await sleep(10);
    first.remove();
    const second = await chat({ persist: 'reload' });
    await until('restored', () => second.messages.length === 2);
    await second.updateComplete;
    expect(second.messages).to.deep.equal([
      { role: 'user', content: 'keep this' },
      { role: 'assistant', content: 'Hello **there**, friend.' },
    ]);
    expect(q(second, '.message.assistant strong')?.textContent).to.equal('there');
    const other = await chat({ persist: 'another-key' });
    await sleep(50);
    expect(other.messages).to.deep.equal([]);
  });
});

describe('<gpt-chat> long conversations', () => {
  it('drops the oldest turns, keeps the system prompt, and says so', async () => {
    engine.contextLength = 100;
    engine.replies = ['A reply of some length, to fill the context window.'];
    const el = await chat({ 'system-prompt': 'System rules.', 'max-tokens': '40' });
    for (const t of ['first question here', 'second question here', 'third question here']) await exchange(el, t);
    const last = engine.requests.at(-1)!.messages;
    expect(last[0]).to.deep.equal({ role: 'system', content: 'System rules.' });
    expect(last.at(-1)).to.deep.equal({ role: 'user', content: 'third question here' });
    expect(last.some((m) => m.content === 'first question here')).to.equal(false);
    expect(q(el, '[part="status"]')!.textContent).to.match(/older message.*left out/);
    expect(el.messages.length).to.equal(6); // the page still shows everything
  });

  it('refuses a single message longer than the context with a clear error', async () => {
    engine.contextLength = 40;
    const el = await chat();
    el.send('x'.repeat(400));
    await until('error', () => !!q(el, '.error'));
    expect(q(el, '.error')!.textContent).to.match(/context window holds 40.*shorten the message/s);
    expect(el.messages[0]!.content).to.equal('x'.repeat(400)); // nothing typed is lost
  });
});

describe('<gpt-chat> loading and errors', () => {
  it('shows progress with bytes and percent while loading', async () => {
    const el = await chat({}, { wait: false });
    await until('progress shown', () => !!q(el, 'progress'));
    // half the download is 40% of the one bar (the download is 80% of a whole first load)
    expect(q(el, '[part="status"]')!.textContent).to.match(/Downloading the model: 500 B of 1 kB \(40%\)/);
    await until('ready', () => el.status === ChatStatus.ready);
  });

  it('asks before a large download and starts it on the click', async () => {
    const el = await chat({ model: '/big/' }, { bytes: 300e6, wait: false });
    await until('confirm', () => el.status === ChatStatus.confirm);
    await el.updateComplete;
    expect(q(el, '.confirm')!.textContent).to.match(/300\.0 MB download/);
    expect(engine.loads).to.equal(0);
    q<HTMLButtonElement>(el, '[part="download-button"]')!.click();
    await until('ready', () => el.status === ChatStatus.ready);
    expect(engine.loads).to.equal(1);
  });

  it('asks the browser to keep the cache (navigator.storage.persist) from the page, on the download click only', async () => {
    // A spy on the real StorageManager that calls through: the browser's answer is its own.
    const storage = navigator.storage;
    const real = storage.persist.bind(storage);
    let asked = 0;
    storage.persist = () => (asked++, real());
    try {
      const el = await chat({ model: '/big/' }, { bytes: 300e6, wait: false });
      await until('confirm', () => el.status === ChatStatus.confirm);
      expect(asked).to.equal(0); // not before the user said yes
      q<HTMLButtonElement>(el, '[part="download-button"]')!.click();
      await until('ready', () => el.status === ChatStatus.ready);
      // asked after the click, without holding up the load: wait for it (unless already granted)
      const granted = await storage.persisted();
      if (!granted) await until('persist() asked', () => asked > 0);
    } finally {
      storage.persist = real;
    }
  });

  it('says when WebGPU was missing and the CPU is used', async () => {
    engine.notice = 'WebGPU is not available, so the model runs on the CPU (slower).';
    const el = await chat();
    await el.updateComplete;
    expect(q(el, '[part="status"]')!.textContent).to.contain('runs on the CPU');
    expect(q(el, '.header')!.textContent).to.contain('CPU');
  });

  it('autoload skips the question', async () => {
    const el = await chat({ model: '/big/', autoload: '' }, { bytes: 300e6 });
    expect(el.status).to.equal(ChatStatus.ready);
  });

  it('shows a load failure with its message and a Retry that answers the waiting message', async () => {
    engine.failLoad = new GptError('network', 'Could not reach http://nowhere.test/m/config.json. HINT: check the URL.');
    const errors: string[] = [];
    document.addEventListener('gpt-chat-error', (e) => errors.push(e.detail.code));
    const el = await chat({ model: 'http://nowhere.test/m/' }, { wait: false });
    await until('error', () => el.status === ChatStatus.error);
    await el.updateComplete;
    expect(q(el, '.error')!.textContent).to.contain('Could not reach http://nowhere.test/m/config.json');
    expect(errors).to.include('network');
    // Sending tries the load again; it fails again and the message waits, not lost.
    el.send('are you there?');
    await until('second failure', () => engine.loads === 2 && el.status === ChatStatus.error);
    await el.updateComplete;
    expect(el.messages).to.deep.equal([{ role: 'user', content: 'are you there?' }]);
    engine.failLoad = undefined;
    q<HTMLButtonElement>(el, '[part="retry-button"]')!.click();
    await until('answered', () => el.messages.length === 2);
    expect(el.messages[1]!.role).to.equal('assistant');
  });
});

describe('<gpt-chat> quota and device errors', () => {
  it('shows a full-storage error that says what to delete, and keeps what was typed', async () => {
    engine.failLoad = new GptError('quota', 'Storage is full: 120 MB more is needed for this model. HINT: delete cached models (clearCache()) or free space.');
    const el = await chat({}, { wait: false });
    await until('error', () => el.status === ChatStatus.error);
    await el.updateComplete;
    expect(q(el, '.error')!.textContent).to.contain('120 MB more is needed');
    const input = q<HTMLTextAreaElement>(el, 'textarea')!;
    input.value = 'my long question';
    input.dispatchEvent(new Event('input'));
    el.send('my long question');
    await until('failed again', () => engine.loads === 2 && el.status === ChatStatus.error);
    expect(el.messages).to.deep.equal([{ role: 'user', content: 'my long question' }]);
  });

  it('reports a GPU lost mid-reply, keeps the conversation, and Retry reloads and answers', async () => {
    const el = await chat();
    await exchange(el, 'first');
    engine.failChat = new GptError('device-lost', 'The GPU device was lost (reset). Load the model again to recover.');
    const errors: string[] = [];
    el.addEventListener('gpt-chat-error', (e) => errors.push(e.detail.code));
    el.send('second');
    await until('error', () => el.status === ChatStatus.error);
    await el.updateComplete;
    expect(errors).to.deep.equal(['device-lost']);
    expect(q(el, '.error')!.textContent).to.contain('The GPU device was lost');
    expect(el.messages.map((m) => m.content).slice(0, 3)).to.deep.equal(['first', el.messages[1]!.content, 'second']);
    const loadsBefore = engine.loads;
    q<HTMLButtonElement>(el, '[part="retry-button"]')!.click();
    await until('answered', () => el.status === ChatStatus.ready && el.messages.length === 4 && el.messages[3]!.role === 'assistant');
    expect(engine.loads).to.be.greaterThan(loadsBefore);
  });
});

/** Payloads that must never run, load or navigate, whole and split across tokens. */
const XSS_CORPUS = [
  '<script>window.__xss = 1</script>',
  '<img src=x onerror="window.__xss=2">',
  '<svg onload="window.__xss=3"></svg>',
  '[click me](javascript:window.__xss=4)',
  '[data](data:text/html,<script>window.__xss=5</script>)',
  '![tracker](http://127.0.0.1:1/track.png)',
  '<a href="javascript:window.__xss=6">x</a>',
  '<iframe src="javascript:window.__xss=7"></iframe>',
  '`<b>` **<i onmouseover="window.__xss=8">x</i>**',
  '```html\n<script>window.__xss=9</script>\n```',
  '<scr<script>ipt>window.__xss=10</script>',
  '[ok](https://example.com/" onclick="window.__xss=11)',
  '<style>@import "http://127.0.0.1:1/x.css";</style>',
];

function assertInert(container: ParentNode): void {
  expect((window as { __xss?: number }).__xss, 'a payload ran').to.equal(undefined);
  expect(container.querySelectorAll('script, img, svg, iframe, style, object, embed, link').length).to.equal(0);
  for (const node of container.querySelectorAll('*')) {
    for (const attr of node.attributes) expect(attr.name.startsWith('on'), `${node.tagName} ${attr.name}`).to.equal(false);
  }
  for (const a of container.querySelectorAll('a')) {
    expect(a.href).to.match(/^https?:/);
    expect(a.rel).to.contain('noopener');
  }
}

describe('<gpt-chat> XSS corpus', () => {
  it('renders every payload as inert text, streamed in pieces, with no request made', async () => {
    engine.replies = [XSS_CORPUS.join('\n\n')];
    engine.delayMs = 0;
    const requested: string[] = [];
    const observer = new PerformanceObserver((list) => requested.push(...list.getEntries().map((e) => e.name)));
    observer.observe({ type: 'resource', buffered: false });
    const el = await chat();
    await exchange(el, 'attack');
    await sleep(100);
    observer.disconnect();
    const reply = replies(el).at(-1)!;
    assertInert(reply);
    expect(reply.textContent).to.contain('<script>window.__xss = 1</script>');
    expect(reply.textContent).to.contain('tracker');
    expect(requested.filter((u) => u.includes('127.0.0.1:1')), 'remote fetches').to.deep.equal([]);
    // The one safe link stays a link, without the injected attribute.
    const links = [...reply.querySelectorAll('a')];
    expect(links.every((a) => !a.hasAttribute('onclick'))).to.equal(true);
  });

  it('renders a stored conversation full of payloads inertly', async () => {
    for (const p of XSS_CORPUS) {
      await store.append('xss', { role: 'user', content: p });
      await store.append('xss', { role: 'assistant', content: p });
    }
    const el = await chat({ persist: 'xss' });
    await until('restored', () => el.messages.length === XSS_CORPUS.length * 2);
    await el.updateComplete;
    assertInert(root(el));
    expect(shown(root(el).querySelectorAll('.message.user')[0]!)).to.equal(XSS_CORPUS[0]);
  });
});

describe('<gpt-chat> accessibility', () => {
  it('passes axe-core checks with a conversation on screen', async () => {
    await new Promise<void>((resolve, reject) => {
      if ((window as { axe?: unknown }).axe) return resolve();
      const s = document.createElement('script');
      s.src = '/node_modules/axe-core/axe.min.js';
      s.onload = () => resolve();
      s.onerror = () => reject(new Error('axe-core not found: npm i -D -E axe-core'));
      document.head.append(s);
    });
    document.documentElement.lang = 'en';
    const el = await chat();
    await exchange(el, 'hello');
    const axe = (window as unknown as { axe: { run(ctx: unknown, opts: unknown): Promise<{ violations: { id: string; help: string; nodes: unknown[] }[] }> } }).axe;
    const result = await axe.run(el, { runOnly: ['wcag2a', 'wcag2aa', 'best-practice'], rules: { region: { enabled: false } } });
    expect(result.violations.map((v) => `${v.id}: ${v.help}`)).to.deep.equal([]);
  });

  it('marks the log busy while streaming so screen readers announce the finished reply only', async () => {
    engine.delayMs = 20;
    const el = await chat();
    el.send('hi');
    await until('streaming', () => el.status === ChatStatus.generating);
    await el.updateComplete;
    expect(q(el, '[part="log"]')!.getAttribute('aria-busy')).to.equal('true');
    await until('done', () => el.status === ChatStatus.ready);
    await el.updateComplete;
    expect(q(el, '[part="log"]')!.getAttribute('aria-busy')).to.equal('false');
  });
});
