// <gpt-chat> in headless Chromium on a scripted engine (test/helpers/scripted-engine.ts): what a
// visitor expects of a chat beyond sending: downloads under their control (the send button says it
// downloads, Cancel and Escape, the prompt on return says what is left), no silent waits (reading
// your message, tokens/s, the model's name), Retry for an unanswered message, speaker labels in the
// accessibility tree, a growing message box, Copy on code blocks, tables, "jump to latest", Undo
// after Clear, template mode's input format and same-label hint, and the header after the model in
// use is deleted from this device. The real worker and model: element-engine.browser.test.ts.
import { expect } from 'chai';
import { a11ySnapshot, emulateMedia, sendKeys } from '@web/test-runner-commands';
import type { FewShotTemplate } from '../../src/templates/schema.ts';
import type { TemplateScores } from '../../src/engine/engine.ts';
import { ChatStatus } from '../../src/element/chat-controller.ts';
import { memoryConversationStore, type ConversationStore } from '../../src/element/conversation-store.ts';
import { GptChat } from '../../src/gpt-chat.ts';
import { ScriptedEngine, shown, sleep, until } from '../helpers/scripted-engine.ts';

/** A scripted engine that also scores templates: the first label always wins with `p`. */
class ScoringEngine extends ScriptedEngine {
  p = 0.99;
  async classify(t: FewShotTemplate): Promise<TemplateScores> {
    const n = t.labels.length;
    const probabilities = t.labels.map((_, i) => (i === 0 ? this.p : (1 - this.p) / (n - 1)));
    const names = t.labels.map((l) => l.name);
    return {
      templateId: t.id, task: 'classification', candidates: names, continuations: names.map((x) => ' ' + x), normalisation: 'summed',
      probabilities, scores: probabilities.map(Math.log), logProbs: probabilities.map(Math.log), perToken: names.map(() => [0]),
      best: 0, answer: names[0]!, prompt: '', promptTokens: 10, droppedExamples: [], ms: 1,
    } as TemplateScores;
  }
}

let engine: ScoringEngine;
let store: ConversationStore;
let stored: number;
const elements: HTMLElement[] = [];

async function chat(attrs: Record<string, string> = {}, options: { bytes?: number; wait?: boolean } = {}): Promise<GptChat> {
  GptChat.deps = {
    createEngine: () => engine,
    store,
    storedModelBytes: async () => stored,
  };
  engine.bytes = options.bytes ?? 1000;
  const el = document.createElement('gpt-chat');
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  el.style.height = '400px';
  el.style.display = 'block';
  document.body.append(el);
  elements.push(el);
  await el.updateComplete;
  if (options.wait !== false) await until('ready', () => el.status === ChatStatus.ready);
  return el;
}

const q = <T extends Element = HTMLElement>(el: GptChat, sel: string) => el.shadowRoot!.querySelector(sel) as T | null;
const status = (el: GptChat) => q(el, '[part="status"]')!.textContent!.replace(/\s+/g, ' ');

async function exchange(el: GptChat, text: string): Promise<void> {
  const before = el.messages.length;
  expect(el.send(text)).to.equal(true);
  await until('reply', () => el.status === ChatStatus.ready && el.messages.length === before + 2);
  await el.updateComplete;
}

beforeEach(() => {
  engine = new ScoringEngine();
  store = memoryConversationStore();
  stored = 0;
});
afterEach(() => {
  for (const el of elements.splice(0)) el.remove();
  GptChat.deps = {};
});

describe('downloads under the user\'s control', () => {
  it('while a large download waits, the send button says it downloads; Enter then starts it', async () => {
    const el = await chat({ model: '/models/large/' }, { bytes: 539e6, wait: false });
    await until('confirm', () => el.status === ChatStatus.confirm);
    await el.updateComplete;
    const send = q<HTMLButtonElement>(el, '[part="send-button"]')!;
    expect(send.textContent!.trim()).to.equal('Download & send');
    expect(send.getAttribute('aria-label')).to.equal('Download the model (539.0 MB) and send');
    expect(send.disabled).to.equal(false);
    expect(engine.loads).to.equal(0);
    q<HTMLTextAreaElement>(el, 'textarea')!.focus();
    await sendKeys({ type: 'hi' });
    await sendKeys({ press: 'Enter' });
    await until('answered', () => el.messages.length === 2);
    expect(engine.loads).to.equal(1);
  });

  it('Cancel stops the load in the engine; the prompt says how much is left and resumes', async () => {
    engine.loadDelayMs = 60_000;
    const el = await chat({}, { wait: false });
    await until('loading with progress', () => !!q(el, '[part="cancel-button"]'));
    expect(status(el)).to.match(/Downloading the model: 500 B of 1 kB \(40%\)/);
    stored = 400; // what the download kept
    q<HTMLButtonElement>(el, '[part="cancel-button"]')!.click();
    await until('cancelled', () => el.status === ChatStatus.confirm && /left/.test(status(el)));
    expect(engine.loadSignals[0]!.aborted, 'the engine\'s load was aborted').to.equal(true);
    expect(status(el)).to.match(/Loading was cancelled\. 600 B left to download \(400 B already on this device\)\. What was downloaded is kept\./);
    expect(q(el, '[part="header"] .state')!.textContent).to.equal('cancelled');
    const resume = q<HTMLButtonElement>(el, '[part="download-button"]')!;
    expect(resume.textContent).to.equal('Resume download');
    engine.loadDelayMs = 5;
    resume.click();
    await until('ready', () => el.status === ChatStatus.ready);
    expect(engine.loads).to.equal(2);
  });

  it('Escape cancels a load too', async () => {
    engine.loadDelayMs = 60_000;
    const el = await chat({}, { wait: false });
    await until('loading', () => el.status === ChatStatus.loading && engine.loads === 1);
    q<HTMLTextAreaElement>(el, 'textarea')!.focus();
    await sendKeys({ press: 'Escape' });
    await until('cancelled', () => el.status === ChatStatus.confirm);
    expect(engine.loadSignals[0]!.aborted).to.equal(true);
  });

  it('a large download already partly on this device asks for what is left', async () => {
    stored = 40e6;
    // the engine asks with what is left to fetch (the cache knows what it stored)
    const el = await chat({ model: '/models/large/' }, { bytes: 60e6, wait: false });
    await until('confirm', () => el.status === ChatStatus.confirm);
    await el.updateComplete;
    expect(status(el)).to.match(/60\.0 MB left to download \(40\.0 MB already on this device\)/);
    expect(q(el, '[part="download-button"]')!.textContent).to.equal('Resume download');
  });
});

describe('colours', () => {
  afterEach(() => emulateMedia({ colorScheme: 'light' }));

  it('a page in dark mode that sets only a light background gets dark text (no color-scheme attribute)', async () => {
    await emulateMedia({ colorScheme: 'dark' });
    const el = await chat();
    const base = q(el, '.base')!;
    expect(getComputedStyle(base).backgroundColor).to.equal('rgb(22, 24, 29)'); // the dark palette
    const light = getComputedStyle(el).color;
    el.style.setProperty('--gpt-chat-background', '#ffffff');
    el.style.setProperty('--gpt-chat-assistant-background', '#f1f5f9');
    await exchange(el, 'hi');
    const text = (sel: string) => getComputedStyle(q(el, sel)!).color.match(/[\d.]+/g)!.map(Number);
    // oklch lightness 0.22: a near-black text on the light surfaces, not the dark theme's near-white
    expect(text('.base')[0], `box text ${getComputedStyle(base).color} (was ${light})`).to.be.lessThan(0.3);
    expect(text('.message.assistant')[0]).to.be.lessThan(0.3);
    // the user's bubble kept the dark palette's background: its text stays light
    expect(text('.message.user')[0]).to.be.greaterThan(0.9);
  });
});

describe('no silent waits', () => {
  it('shows "Reading your message" with the prompt\'s tokens before the first token of a long prompt', async () => {
    engine.delayMs = 150;
    const el = await chat();
    el.send('word '.repeat(1000));
    await until('reading', () => !!q(el, '.streaming .reading') && /tokens/.test(q(el, '.streaming .reading')!.textContent!));
    expect(q(el, '.streaming .reading')!.textContent).to.match(/^Reading your message \(1,25\d tokens\)…$/);
    await until('first token', () => !q(el, '.streaming .reading'), 10_000);
    el.stop();
  });

  it('names the model in the header and, with show-speed, the tokens per second', async () => {
    const el = await chat({ model: 'https://models.test/org/My-Model-1B/resolve/main/', 'show-speed': '' });
    expect(q(el, '[part="header"] .model')!.textContent).to.equal('My-Model-1B · scripted · CPU');
    await exchange(el, 'hi');
    expect(q(el, '[part="header"] .state')!.textContent).to.match(/^ready · \d+(\.\d)? tok\/s$/);
    const plain = await chat({ model: 'https://models.test/org/Other/' });
    await exchange(plain, 'hi');
    expect(q(plain, '[part="header"] .state')!.textContent).to.equal('ready');
  });

  it('a message left unanswered by a reload gets a Retry that answers it', async () => {
    await store.append('left', { role: 'user', content: 'are you there?' });
    const el = await chat({ persist: 'left' });
    await until('restored', () => el.messages.length === 1);
    await el.updateComplete;
    const retry = q<HTMLButtonElement>(el, '.unanswered [part="retry-button"]')!;
    expect(q(el, '.unanswered')!.textContent).to.match(/no answer yet/);
    retry.click();
    await until('answered', () => el.messages.length === 2 && el.status === ChatStatus.ready);
    await el.updateComplete;
    expect(q(el, '.unanswered')).to.equal(null);
  });
});

describe('chat basics', () => {
  it('announces who said what in the accessibility tree', async () => {
    const el = await chat();
    el.id = 'a11y-chat';
    await exchange(el, 'hello');
    const names: string[] = [];
    const walk = (n: { name?: string; children?: unknown[] }) => {
      if (n.name) names.push(n.name);
      for (const c of n.children ?? []) walk(c as typeof n);
    };
    const snap = await a11ySnapshot({ selector: '#a11y-chat >>> [role="log"]' });
    walk(snap as unknown as { children?: unknown[] });
    // the log's children in reading order: the label, then what was said
    expect(names.join(' | ')).to.match(/^Conversation \| You said: \| hello \| Assistant said: \| Hello /);
    // and not on screen
    const label = q(el, '.message.user .visually-hidden')!;
    expect(label.getBoundingClientRect().width).to.be.at.most(1);
  });

  it('grows the message box with its content up to a limit', async () => {
    const el = await chat();
    const area = q<HTMLTextAreaElement>(el, 'textarea')!;
    const one = area.getBoundingClientRect().height;
    area.value = 'a\nb\nc\nd';
    area.dispatchEvent(new Event('input'));
    await sleep(20);
    const four = area.getBoundingClientRect().height;
    expect(four).to.be.greaterThan(one * 1.8);
    area.value = Array.from({ length: 40 }, (_, i) => `line ${i}`).join('\n');
    area.dispatchEvent(new Event('input'));
    await sleep(20);
    const forty = area.getBoundingClientRect().height;
    expect(forty).to.be.at.most(10 * 16 + 1); // max-height: 10rem, then it scrolls
    expect(area.scrollHeight).to.be.greaterThan(area.clientHeight);
  });

  it('renders tables and puts a Copy button on code blocks that copies the code', async () => {
    engine.replies = ['| a | b |\n|---|--:|\n| 1 | 2 |\n\n```js\nconst x = 1;\n```\n'];
    const el = await chat();
    await exchange(el, 'show me');
    expect([...el.shadowRoot!.querySelectorAll('.message.assistant table th')].map((t) => t.textContent)).to.deep.equal(['a', 'b']);
    expect((el.shadowRoot!.querySelector('.message.assistant table td:last-child') as HTMLElement).style.textAlign).to.equal('right');
    const copied: string[] = [];
    // A stand-in for the system clipboard (headless Chromium has none to read back).
    Object.defineProperty(navigator.clipboard, 'writeText', { configurable: true, value: async (t: string) => void copied.push(t) });
    const button = q<HTMLButtonElement>(el, '.code-block button.copy-code')!;
    button.click();
    await until('copied', () => copied.length === 1);
    expect(copied[0]).to.equal('const x = 1;');
    await until('label', () => button.textContent === 'Copied');
  });

  it('offers "Jump to latest" when the reader scrolled up during a reply', async () => {
    engine.replies = [Array.from({ length: 80 }, (_, i) => `Line ${i} of a long answer.`).join('\n\n')];
    engine.delayMs = 2;
    const el = await chat();
    el.style.height = '260px';
    el.send('tell me a lot');
    const log = q(el, '.log')!;
    await until('overflowing', () => log.scrollHeight > log.clientHeight * 2, 10_000);
    log.scrollTop = 0;
    log.dispatchEvent(new Event('scroll'));
    await until('jump button', () => !!q(el, '[part="jump-button"]'));
    q<HTMLButtonElement>(el, '[part="jump-button"]')!.click();
    await el.updateComplete;
    await sleep(30);
    expect(log.scrollHeight - log.scrollTop - log.clientHeight).to.be.lessThan(30);
    expect(q(el, '[part="jump-button"]')).to.equal(null);
    el.stop();
  });

  it('Clear offers Undo, which brings back the conversation and its stored copy', async () => {
    const el = await chat({ persist: 'undo' });
    await exchange(el, 'keep me');
    el.clear();
    await sleep(20);
    expect((await store.load('undo')).length).to.equal(0);
    await el.updateComplete;
    q<HTMLButtonElement>(el, '[part="undo-button"]')!.click();
    await el.updateComplete;
    expect(el.messages.map((m) => m.content)[0]).to.equal('keep me');
    await sleep(20);
    expect((await store.load('undo')).length).to.equal(2);
    expect(q(el, '[part="undo-button"]')).to.equal(null);
  });

  it('template mode shows the expected input first, and a hint when one label always wins near 100%', async () => {
    const el = await chat({ template: 'entailment' });
    await until('format', () => /premise: …/.test(q(el, '.template-format')?.textContent ?? ''));
    expect(q(el, '.template-format')!.textContent).to.match(/one line per field:\s*premise: …\s*hypothesis: …/);
    el.setAttribute('template', 'sentiment');
    for (const text of ['great', 'awful', 'fine']) {
      el.send(text);
      await until('scored', () => el.templateTurns.every((t) => !t.pending));
    }
    await el.updateComplete;
    expect(q(el, '.same-label-hint')!.textContent).to.match(/"positive" near 100% for every message/);
  });

  it('deleting the model in use from this device updates the header', async () => {
    const el = await chat({ model: '/models/not-stored-anywhere/' });
    expect(q(el, '[part="header"] .state')!.textContent).to.equal('ready');
    await el.deleteCachedModel('/models/not-stored-anywhere');
    await el.updateComplete;
    expect(q(el, '[part="header"] .state')!.textContent).to.equal('ready (not stored on this device)');
    expect(shown(q(el, '[part="header"]'))).to.contain('not-stored-anywhere');
  });
});
