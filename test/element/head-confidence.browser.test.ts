// The task head in <gpt-template-editor> and token confidence in <gpt-chat>, in headless Chromium
// on the real engine: the built worker bundle (dist/gpt-chat-worker.js) running our runtime on the
// CPU, on a generated fixture model. Train a head from pasted rows (progress, cancel, bad rows that
// change nothing), see its cross-validated accuracy, confusion matrix and a learning curve, switch
// try-it between few-shot and the head, save, reload and answer with it from <gpt-chat template>;
// then show-confidence: logprobs in the token events, marked tokens focusable and described.
import { a11ySnapshot } from '@web/test-runner-commands';
import { expect } from 'chai';
import { ChatStatus } from '../../src/element/chat-controller.ts';
import { memoryConversationStore } from '../../src/element/conversation-store.ts';
import type { TokenDetail } from '../../src/element/events.ts';
import { GptChat, GptTemplateEditor } from '../../src/gpt-chat.ts';
import { idbTemplateStore } from '../../src/templates/template-store.ts';
import { sleep, until as waitUntil } from '../helpers/waits.ts';

const MODEL = '/test/fixtures/generated/gpt2/';
const WORKER = '/dist/gpt-chat-worker.js';
const DB = `gpt-chat-head-test-${Date.now()}`;
const until = (what: string, ok: () => boolean, timeoutMs = 90_000) => waitUntil(what, ok, timeoutMs);

const elements: HTMLElement[] = [];
afterEach(async () => {
  for (const el of elements.splice(0)) el.remove();
  GptChat.deps = {};
  await sleep(1100);
});

async function chat(attrs: Record<string, string> = {}): Promise<GptChat> {
  GptChat.deps = { store: memoryConversationStore() };
  GptChat.templateStore = idbTemplateStore(DB);
  const el = document.createElement('gpt-chat');
  for (const [k, v] of Object.entries({ model: MODEL, engine: 'cpu', 'worker-url': WORKER, ...attrs })) el.setAttribute(k, v);
  el.style.height = '500px';
  document.body.append(el);
  elements.push(el);
  await until('model ready', () => el.status === ChatStatus.ready);
  return el;
}

async function editor(): Promise<GptTemplateEditor> {
  GptTemplateEditor.store = idbTemplateStore(DB);
  const el = document.createElement('gpt-template-editor');
  el.setAttribute('for', 'chat');
  document.body.append(el);
  elements.push(el);
  await el.refresh();
  await until('the head panel (a lazy chunk)', () => !!el.training);
  await el.updateComplete;
  return el;
}

const q = <T extends Element = HTMLElement>(el: HTMLElement, sel: string) => el.shadowRoot!.querySelector(sel) as T;
const all = (el: HTMLElement, sel: string) => [...el.shadowRoot!.querySelectorAll<HTMLElement>(sel)];

async function paste(el: GptTemplateEditor, text: string): Promise<void> {
  q<HTMLTextAreaElement>(el, 'textarea.train-rows').value = text;
  await el.updateComplete;
}

async function clickAndSettle(el: GptTemplateEditor, sel: string): Promise<void> {
  q<HTMLButtonElement>(el, sel).click();
  await el.updateComplete;
  await until(`${sel} to finish`, () => !el.training!.busy);
  await el.updateComplete;
}

const WORDS = ['sun', 'rain', 'good', 'bad', 'fine', 'awful', 'great', 'poor', 'warm', 'cold'];
const tsv = (n: number) => Array.from({ length: n }, (_, i) => `${WORDS[i % 10]} ${WORDS[(i * 3) % 10]} day ${i}\t${i % 2 ? 'positive' : 'negative'}`).join('\n');

describe('a task head in the template editor', () => {
  it('refuses bad rows, cancels, trains with CV accuracy and a confusion matrix, draws a learning curve, switches try-it, and <gpt-chat template> answers with the saved head', async () => {
    const c = await chat();
    c.id = 'chat';
    const ed = await editor();
    ed.load({ ...ed.template, id: 'head-ui-test', name: 'Head UI test', examples: ed.template.examples.slice(0, 2) });
    await ed.updateComplete;
    expect(ed.template.task).to.equal('classification');

    // bad input: a clear error, no head, nothing saved
    const bad: [string, RegExp][] = [
      ['nice day\tpositive\nawful day\tmaybe', /Row 2 has the answer "maybe", which is not one of the labels/],
      ['nice day\tpositive\n\tnegative', /Row 2: the field "text" is empty/],
      ['nice day,positive\n"sunny, warm",positive\ngreat,positive', /every row has the answer "positive"/],
    ];
    for (const [rows, message] of bad) {
      await paste(ed, rows);
      await clickAndSettle(ed, 'button.train-button');
      expect(q(ed, '.status').textContent).to.match(message);
      expect(q(ed, '.status').getAttribute('role')).to.equal('alert');
      expect(ed.draft.head).to.equal(undefined);
    }
    expect((await GptTemplateEditor.store.list()).map((t) => t.id)).not.to.include('head-ui-test');

    // cancel while reading rows: progress shows, then nothing changes
    await paste(ed, tsv(80));
    q<HTMLButtonElement>(ed, 'button.train-button').click();
    await until('training progress', () => !!q(ed, 'progress.train-progress') && Number(q<HTMLProgressElement>(ed, 'progress.train-progress').value) >= 2);
    expect(q(ed, '.train-progress-row').textContent).to.match(/Reading rows: \d+ of 80/);
    q<HTMLButtonElement>(ed, 'button.train-cancel').click();
    await until('cancelled', () => !ed.training!.busy);
    await ed.updateComplete;
    expect(q(ed, '.status').textContent).to.match(/Cancelled: nothing was changed/);
    expect(ed.draft.head).to.equal(undefined);

    // train on 24 pasted rows
    await paste(ed, tsv(24));
    await clickAndSettle(ed, 'button.train-button');
    const head = ed.draft.head!;
    expect(head, q(ed, '.status').textContent ?? '').to.not.equal(undefined);
    expect(head.validation.rows).to.equal(24);
    expect(q(ed, '.head-accuracy').textContent).to.contain(`${(head.validation.accuracy * 100).toFixed(1)}% cross-validated accuracy`);
    const cells = all(ed, '.head-report table.confusion tbody td').map((td) => Number(td.textContent));
    expect(cells.reduce((a, b) => a + b, 0)).to.equal(24);
    expect(all(ed, '.head-report table.confusion thead th').map((th) => th.textContent)).to.deep.equal(['', 'positive', 'negative']);
    const diagonal = cells[0]! + cells[3]!;
    expect(diagonal / 24).to.be.closeTo(head.validation.accuracy, 1e-9);

    // learning curve on the same rows: 6 held out, 8 / 16 / 18 to learn from
    await clickAndSettle(ed, 'button.curve-button');
    const svg = q(ed, 'svg.curve-chart');
    expect(svg.getAttribute('role')).to.equal('img');
    expect(q(ed, 'svg.curve-chart desc').textContent).to.match(/^8 rows: few-shot \d+%, head (\d+%|—); 16 rows/);
    expect(all(ed, 'svg.curve-chart polyline')).to.have.length(2);
    expect(all(ed, 'svg.curve-chart circle.few-shot')).to.have.length(3);
    expect(all(ed, 'table.curve-table tbody th').map((th) => th.textContent)).to.deep.equal(['8', '16', '18']);
    expect(ed.training!.curve!.heldOut).to.equal(6);

    // try it: few-shot, then the head
    q<HTMLInputElement>(ed, 'input.try-text').value = 'warm sun day';
    q(ed, 'input.try-text').dispatchEvent(new Event('input'));
    q<HTMLInputElement>(ed, 'input.use-few-shot').click();
    await ed.updateComplete;
    const fewShot = (await ed.tryIt())!;
    expect(fewShot.normalisation).to.equal('summed');
    q<HTMLInputElement>(ed, 'input.use-head').click();
    await ed.updateComplete;
    const byHead = (await ed.tryIt())!;
    expect(byHead.normalisation).to.equal('head');
    expect(byHead.probabilities).to.not.deep.equal(fewShot.probabilities);

    // saved with the template, exported, read back after a reload
    await q<HTMLButtonElement>(ed, 'button.save').click();
    await until('saved', () => /Saved/.test(q(ed, '.status')?.textContent ?? ''));
    expect(JSON.parse(ed.exportJson()).head.validation.rows).to.equal(24);
    const again = await editor();
    const saved = again.saved.find((t) => t.id === 'head-ui-test')!;
    expect(saved.head!.weights).to.deep.equal(head.weights);

    // <gpt-chat template=...>: the head by default (trained on this model), few-shot when asked
    const byTemplate = await chat({ template: 'head-ui-test' });
    byTemplate.send('warm sun day');
    await until('template answer', () => byTemplate.templateTurns[0]?.pending === false);
    expect(byTemplate.templateTurns[0]!.result!.normalisation).to.equal('head');
    expect(byTemplate.templateTurns[0]!.result!.probabilities).to.deep.equal(byHead.probabilities);
    await byTemplate.updateComplete;
    expect(q(byTemplate, '.template-method').textContent).to.match(/Answered by: trained head \(\d+% cross-validated on 24 rows\)/);
    byTemplate.setAttribute('template-mode', 'few-shot');
    byTemplate.send('warm sun day');
    await until('few-shot answer', () => byTemplate.templateTurns[1]?.pending === false);
    expect(byTemplate.templateTurns[1]!.result!.normalisation).to.equal('summed');
    await byTemplate.updateComplete;
    expect(all(byTemplate, '.template-method')[1]!.textContent).to.match(/Answered by: few-shot/);
  });
});

describe('show-confidence', () => {
  it('puts logprob and the top alternatives in the token events, and marks unlikely tokens focusably with their probability and alternatives', async () => {
    const el = await chat({ 'show-confidence': '', 'confidence-threshold': '0.9', temperature: '0', 'max-tokens': '12' });
    el.id = 'confident';
    const tokens: TokenDetail[] = [];
    el.addEventListener('gpt-chat-token', (e) => tokens.push(e.detail));
    el.send('Hello there');
    await until('the reply', () => el.messages.length === 2 && el.status === ChatStatus.ready);
    await el.updateComplete;
    const real = tokens.filter((t) => t.id >= 0);
    expect(real.length).to.be.greaterThan(0);
    for (const t of real) {
      expect(t.logprob).to.be.a('number').and.at.most(0);
      expect(t.top).to.have.length(5);
      expect(t.top![0]!.id).to.equal(t.id); // greedy: the token taken is the most likely one
      expect(t.top![0]!.logprob).to.be.closeTo(t.logprob!, 1e-12);
      for (let i = 1; i < 5; i++) expect(t.top![i]!.logprob).to.be.at.most(t.top![i - 1]!.logprob);
    }
    const unlikely = real.filter((t) => Math.exp(t.logprob!) < 0.9 && t.text.trim());
    const marks = all(el, '.message.assistant mark.token-low');
    expect(marks.length).to.equal(unlikely.length);
    expect(marks.length).to.be.greaterThan(0); // a random-weight model is unsure: the test can tell
    // the reply reads as the text itself (tooltips are hidden until hover or focus)
    expect(el.messages[1]!.content).to.equal(real.map((t) => t.text).join(''));

    const first = marks[0]!;
    expect(first.tabIndex).to.equal(0);
    first.focus();
    expect(el.shadowRoot!.activeElement).to.equal(first);
    const tip = el.shadowRoot!.getElementById(first.getAttribute('aria-describedby')!)!;
    expect(getComputedStyle(tip).display).to.equal('block'); // shown on focus
    const t0 = unlikely[0]!;
    const p = 100 * Math.exp(t0.logprob!);
    expect(tip.textContent).to.contain(`Probability ${p >= 10 ? p.toFixed(0) : p.toPrecision(1)}%.`);
    expect(tip.textContent).to.contain(`Most likely: ${JSON.stringify(t0.top![0]!.text)}`);
    expect(getComputedStyle(first).textDecorationStyle).to.equal('dotted');
    first.blur();
    expect(getComputedStyle(tip).display).to.equal('none');

    // in the accessibility tree: the mark is focusable and described by its probability and alternatives
    const descriptions: string[] = [];
    const walk = (n: { description?: string; children?: unknown[] }) => {
      if (n.description) descriptions.push(n.description);
      for (const c of n.children ?? []) walk(c as typeof n);
    };
    walk((await a11ySnapshot({ selector: '#confident >>> [role="log"]' })) as unknown as { children?: unknown[] });
    expect(descriptions.length).to.equal(marks.length);
    expect(descriptions[0]).to.match(/^Probability \d+(\.\d)?%\. Most likely: /);
  });

  it('is off by default: no logprob in the events, replies rendered as markdown', async () => {
    const el = await chat({ temperature: '0', 'max-tokens': '6' });
    const tokens: TokenDetail[] = [];
    el.addEventListener('gpt-chat-token', (e) => tokens.push(e.detail));
    el.send('Hello');
    await until('the reply', () => el.messages.length === 2 && el.status === ChatStatus.ready);
    expect(tokens.length).to.be.greaterThan(0);
    expect(tokens.every((t) => !('logprob' in t) && !('top' in t))).to.equal(true);
    expect(all(el, 'mark.token-low')).to.have.length(0);
  });
});
