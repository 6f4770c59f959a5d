// <gpt-template-editor> with <gpt-chat> in headless Chromium, on the real runtime (an in-page
// engine on a generated fixture model): author a template, save it to IndexedDB, read it back in
// a fresh editor (a reload), run it from the chat in template mode and see the bars; a malformed
// JSON import gives a clear error and loses nothing.
import { expect } from 'chai';
import { ChatStatus } from '../../src/element/chat-controller.ts';
import { memoryConversationStore } from '../../src/element/conversation-store.ts';
import { InPageEngine } from '../../src/engine/in-page-engine.ts';
import { GptChat, GptTemplateEditor } from '../../src/gpt-chat.ts';
import { idbTemplateStore } from '../../src/templates/template-store.ts';
import { sleep, until } from '../helpers/waits.ts';

const MODEL = '/test/fixtures/generated/gpt2/';
const DB = `gpt-chat-templates-test-${Date.now()}`;

const elements: HTMLElement[] = [];
afterEach(async () => {
  for (const el of elements.splice(0)) el.remove();
  GptChat.deps = {};
  await sleep(1100); // the chat lets go of its engine a second after leaving the page
});

async function editor(): Promise<GptTemplateEditor> {
  // a new store object on the same database: what a page reload gets
  GptTemplateEditor.store = idbTemplateStore(DB);
  const el = document.createElement('gpt-template-editor');
  el.setAttribute('for', 'chat');
  document.body.append(el);
  elements.push(el);
  await el.updateComplete;
  // the element lists saved templates on its own when connected; awaiting a refresh makes the list
  // current before the test reads it (a fixed sleep raced with IndexedDB on a busy machine)
  await (el as unknown as { refresh(): Promise<void> }).refresh();
  await el.updateComplete;
  return el;
}

async function chat(): Promise<GptChat> {
  GptChat.deps = { createEngine: () => new InPageEngine(), store: memoryConversationStore() };
  GptChat.templateStore = idbTemplateStore(DB);
  const el = document.createElement('gpt-chat');
  el.id = 'chat';
  for (const [k, v] of Object.entries({ model: MODEL, engine: 'cpu' })) el.setAttribute(k, v);
  el.style.height = '400px';
  document.body.append(el);
  elements.push(el);
  await until('model ready', () => el.status === ChatStatus.ready);
  return el;
}

const q = <T extends Element>(el: HTMLElement, sel: string) => el.shadowRoot!.querySelector(sel) as T;

/** Types `value` into the input or textarea `sel` the way a user would (input/change events). */
async function type(el: LitLike, sel: string, value: string): Promise<void> {
  const input = q<HTMLInputElement>(el, sel);
  input.focus();
  input.value = value;
  input.dispatchEvent(new Event('input', { bubbles: true }));
  input.dispatchEvent(new Event('change', { bubbles: true }));
  await el.updateComplete;
}
type LitLike = HTMLElement & { updateComplete: Promise<unknown> };

async function click(el: LitLike, sel: string): Promise<void> {
  q<HTMLButtonElement>(el, sel).click();
  await el.updateComplete;
}

describe('<gpt-template-editor>', () => {
  it('authors a template, saves it, reads it back after a reload, and the chat answers with bars', async () => {
    // the editor first: its token count waits for the chat's model (gpt-chat-ready)
    let ed = await editor();
    await type(ed, 'input.try-text', 'warm-up');
    const c = await chat();
    await click(ed, 'button.new');
    await type(ed, 'input.name', 'Weather mood');
    await type(ed, 'input.id', 'weather-mood');
    await type(ed, 'textarea.instruction', 'Is the weather {{label1}} or {{label2}}?');
    await type(ed, 'input.fields', 'report');
    await type(ed, 'textarea.pattern', 'Report: {{report}}\n');
    await type(ed, 'input.answer', 'Weather: {{answer}}');
    await type(ed, 'input[aria-label="Label 1 name"]', 'nice');
    await type(ed, 'input[aria-label="Label 1 text"]', 'nice');
    await type(ed, 'input[aria-label="Label 2 name"]', 'bad');
    await type(ed, 'input[aria-label="Label 2 text"]', 'bad weather');
    await type(ed, 'textarea.paste', 'Sunny and warm\tnice\nCold rain all day\tbad');
    await click(ed, 'button.paste-button');
    expect(ed.draft.examples).to.deep.equal([
      { fields: { report: 'Sunny and warm' }, answer: 'nice' },
      { fields: { report: 'Cold rain all day' }, answer: 'bad' },
    ]);
    // reorder with the keyboard-reachable buttons
    await click(ed, 'button[aria-label="Move example 2 up"]');
    expect(ed.draft.examples[0]!.answer).to.equal('bad');

    // live preview with its token count against the context window
    const preview = q<HTMLElement>(ed, 'pre.preview').textContent;
    expect(preview).to.equal('Is the weather nice or bad weather?\n\nReport: Cold rain all day\nWeather: bad weather\n\nReport: Sunny and warm\nWeather: nice\n\nReport: {{report}}\nWeather:');
    await until('token count', () => /\d+ tokens of a 256-token context window/.test(q<HTMLElement>(ed, 'p.tokens').textContent ?? ''));

    await click(ed, 'button.save');
    await until('saved', () => /Saved "Weather mood"/.test(q<HTMLElement>(ed, '.status')?.textContent ?? ''));

    // a reload: a fresh editor and store read the template back from IndexedDB
    ed.remove();
    ed = await editor();
    const option = [...ed.shadowRoot!.querySelectorAll('select.open option')].find((o) => (o as HTMLOptionElement).value === 'saved:weather-mood') as HTMLOptionElement;
    expect(option, 'saved template listed').to.exist;
    const select = q<HTMLSelectElement>(ed, 'select.open');
    select.value = option.value;
    select.dispatchEvent(new Event('change'));
    await ed.updateComplete;
    expect(ed.template.labels).to.deep.equal([{ name: 'nice', text: 'nice' }, { name: 'bad', text: 'bad weather' }]);
    expect(ed.template.examples).to.have.length(2);

    // try it in the editor: bars
    await type(ed, 'input.try-report', 'Blue sky');
    await click(ed, 'button.try-button');
    await until('try result', () => !!q(ed, '.try .bars'));
    expect(ed.shadowRoot!.querySelectorAll('.try .bar-row')).to.have.length(2);

    // evaluate on held-out rows: accuracy and a 2x2 confusion matrix whose cells add up to the rows
    await type(ed, 'textarea.eval-items', 'Clear skies\tnice\nStorm warning\tbad\nMild breeze\tnice');
    await click(ed, 'button.eval-button');
    await until('evaluation', () => !!q(ed, 'p.accuracy'));
    const report = (ed as unknown as { evalReport: { n: number; correct: number; confusion: number[][] } }).evalReport;
    expect(report.n).to.equal(3);
    expect(report.confusion.flat().reduce((a, b) => a + b, 0)).to.equal(3);
    expect(report.confusion[0]![0]! + report.confusion[1]![1]!).to.equal(report.correct);
    expect(q<HTMLElement>(ed, 'p.accuracy').textContent).to.equal(`Accuracy ${((100 * report.correct) / 3).toFixed(1)}% (${report.correct} of 3)`);
    expect(ed.shadowRoot!.querySelectorAll('table.confusion tbody tr')).to.have.length(2);

    // run it from the chat element in template mode
    c.setAttribute('template', 'weather-mood');
    await c.updateComplete;
    expect(c.send('Thunder and hail')).to.equal(true);
    await until('answer', () => c.templateTurns.length === 1 && !c.templateTurns[0]!.pending);
    await c.updateComplete;
    const turn = c.templateTurns[0]!;
    expect(turn.error).to.equal(undefined);
    expect(turn.result!.candidates).to.deep.equal(['nice', 'bad']);
    expect(turn.result!.probabilities.reduce((a, b) => a + b, 0)).to.be.closeTo(1, 1e-9);
    const rows = [...c.shadowRoot!.querySelectorAll('.template-answer .bar-row')];
    expect(rows.map((r) => r.querySelector('.bar-label')!.textContent)).to.deep.equal(['nice', 'bad']);
    const meters = rows.map((r) => Number(r.querySelector('[role="meter"]')!.getAttribute('aria-valuenow')));
    expect(meters[0]! + meters[1]!).to.be.closeTo(100, 0.11);
    expect(q<HTMLElement>(c, '.template-answer .bar-fill').style.width).to.match(/%$/);
  });

  it('a malformed JSON import shows a clear error and loses nothing', async () => {
    await chat();
    const ed = await editor();
    await type(ed, 'input.name', 'Unsaved edit');
    const before = JSON.stringify(ed.draft);
    const savedBefore = JSON.stringify(ed.saved);
    const input = q<HTMLInputElement>(ed, 'input[type="file"]');
    const files = new DataTransfer();
    files.items.add(new File(['{"version": 1, "id": "x",'], 'broken.json', { type: 'application/json' }));
    input.files = files.files;
    input.dispatchEvent(new Event('change'));
    await until('error shown', () => !!q(ed, '.status[role="alert"]'));
    expect(q<HTMLElement>(ed, '.status[role="alert"]').textContent).to.match(/^Could not import broken\.json: broken\.json is not valid JSON/);
    expect(JSON.stringify(ed.draft)).to.equal(before);
    expect(JSON.stringify(ed.saved)).to.equal(savedBefore);
    expect(q<HTMLInputElement>(ed, 'input.name').value).to.equal('Unsaved edit');

    // valid JSON that is not a valid template: the field is named
    const bad = new DataTransfer();
    bad.items.add(new File([JSON.stringify({ ...ed.template, version: 7 })], 'future.json'));
    input.files = bad.files;
    input.dispatchEvent(new Event('change'));
    await until('second error', () => /future\.json: "version" is 7/.test(q<HTMLElement>(ed, '.status')?.textContent ?? ''));
    expect(JSON.stringify(ed.draft)).to.equal(before);
  });
});
