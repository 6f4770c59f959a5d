// The demo page's controls: they only set attributes of <gpt-chat> and call its cache methods.
const chat = document.getElementById('chat');
const $ = (id) => document.getElementById(id);

/** Settings survive reloads so the offline page comes back as it was left. */
const saved = JSON.parse(localStorage.getItem('gpt-chat-demo-settings') ?? '{}');
const save = () =>
  localStorage.setItem(
    'gpt-chat-demo-settings',
    JSON.stringify({ theme: $('theme').value, model: $('model').value, template: $('template').value, engine: $('engine').value, temperature: $('temperature').value, topP: $('top-p').value, maxTokens: $('max-tokens').value, system: $('system-prompt').value }),
  );

/**
 * web-llm's models (the optgroup whose options say data-engine="webllm") run only on that engine,
 * and it runs only them: picking one switches the engine, picking one of ours switches it back.
 */
function matchEngine() {
  const wanted = $('model').selectedOptions[0]?.dataset.engine;
  if (wanted) $('engine').value = wanted;
  else if ($('engine').value === 'webllm') $('engine').value = 'auto';
}

function apply() {
  const model = $('model').value;
  if (model) chat.setAttribute('model', model);
  else chat.removeAttribute('model');
  chat.setAttribute('engine', $('engine').value);
  if ($('template').value) chat.setAttribute('template', $('template').value);
  else chat.removeAttribute('template');
  chat.setAttribute('temperature', $('temperature').value);
  chat.setAttribute('top-p', $('top-p').value);
  chat.setAttribute('max-tokens', $('max-tokens').value);
  chat.setAttribute('system-prompt', $('system-prompt').value);
  const theme = $('theme').value;
  for (const el of document.querySelectorAll('gpt-chat, gpt-template-editor')) el.setAttribute('color-scheme', theme);
  $('temperature-out').textContent = $('temperature').value;
  $('top-p-out').textContent = $('top-p').value;
  save();
}

if (saved.model !== undefined) $('model').value = saved.model;
if (saved.engine) $('engine').value = saved.engine;
if (saved.template) $('template').value = saved.template;
if (saved.theme) $('theme').value = saved.theme;
if (saved.temperature) $('temperature').value = saved.temperature;
if (saved.topP) $('top-p').value = saved.topP;
if (saved.maxTokens) $('max-tokens').value = saved.maxTokens;
if (saved.system) $('system-prompt').value = saved.system;
apply();
$('model').addEventListener('change', matchEngine);
for (const id of ['theme', 'model', 'template', 'engine', 'temperature', 'top-p', 'max-tokens', 'system-prompt']) $(id).addEventListener('change', apply);
for (const id of ['temperature', 'top-p']) $(id).addEventListener('input', () => ($(`${id}-out`).textContent = $(id).value));

const size = (n) => (n >= 1e9 ? `${(n / 1e9).toFixed(2)} GB` : n >= 1e6 ? `${(n / 1e6).toFixed(1)} MB` : `${Math.round(n / 1e3)} kB`);

/** Refreshes the cached models table; calls queue up, so two refreshes never interleave their rows. */
let listing = Promise.resolve();
const showCached = () => (listing = listing.then(renderCached, renderCached));

/** The cached models table: built with DOM calls and textContent (URLs are data, not markup). */
async function renderCached() {
  await customElements.whenDefined('gpt-chat');
  const body = $('cached');
  const models = await chat.listCachedModels().catch(() => []);
  body.replaceChildren();
  if (!models.length) {
    const td = document.createElement('td');
    td.className = 'hint';
    td.textContent = 'Nothing stored yet.';
    body.append(document.createElement('tr'));
    body.lastChild.append(td);
  }
  for (const m of models) {
    const tr = document.createElement('tr');
    const name = document.createElement('td');
    name.className = 'url';
    const shown = m.url.replace(/^https?:\/\/(huggingface\.co\/)?/, '').replace(/\/resolve\/main\/$/, '');
    // A line may break after each '/', so a long URL wraps between path segments.
    shown.split(/(?<=\/)/).forEach((part, i) => {
      if (i) name.append(document.createElement('wbr'));
      const segment = document.createElement('span');
      segment.className = 'segment';
      segment.textContent = part;
      name.append(segment);
    });
    if (!m.complete) name.append(` (partial: ${size(m.bytes)} of ${size(m.totalBytes)})`);
    name.title = `${m.url}\nstored ${m.createdAt.toLocaleString()}`;
    const bytes = document.createElement('td');
    bytes.className = 'size';
    bytes.textContent = size(m.bytes);
    // weights quantized on load, kept beside the model (deleted with it): counted here, not hidden
    for (const k of m.kept ?? []) {
      const line = document.createElement('div');
      line.className = 'kept';
      line.textContent = `+ ${size(k.bytes)} kept as ${k.variant}${k.complete ? '' : ' (partial)'}`;
      line.title = k.complete
        ? `The weights quantized to ${k.variant} on an earlier load, read instead of the model's own on the next load with quantize="${k.variant}".`
        : `A save of the weights quantized to ${k.variant} that was cut short; the next load with quantize="${k.variant}" finishes it.`;
      bytes.append(line);
    }
    const actions = document.createElement('td');
    const del = document.createElement('button');
    del.type = 'button';
    del.textContent = 'Delete';
    del.setAttribute('aria-label', `Delete ${shown} from this device`);
    del.addEventListener('click', async () => {
      await chat.deleteCachedModel(m.url);
      await showCached();
    });
    if (m.complete) {
      const exp = document.createElement('button');
      exp.type = 'button';
      exp.textContent = 'Export';
      exp.setAttribute('aria-label', `Export ${shown} as files`);
      // The stored files, byte for byte: into a folder where the browser can pick one, else as downloads.
      exp.addEventListener('click', () => chat.exportCachedModel(m.url).catch((e) => e.name !== 'AbortError' && alert(e.message)));
      actions.append(exp);
    }
    actions.append(del);
    tr.append(name, bytes, actions);
    body.append(tr);
  }
  const estimate = await navigator.storage?.estimate?.().catch(() => null);
  $('storage').textContent = estimate ? `This site uses ${size(estimate.usage ?? 0)} of ${size(estimate.quota ?? 0)} available.` : '';
}

/**
 * Whether the browser keeps the stored models when space runs low. The element asks (persist())
 * when a large download is confirmed and says the answer in `gpt-chat-storage`; before that, the
 * panel shows what the browser says now (persisted()).
 */
async function showPersistence() {
  await customElements.whenDefined('gpt-chat');
  let answer = chat.persistentStorage;
  let asked = answer !== undefined;
  if (!asked) answer = navigator.storage?.persisted ? await navigator.storage.persisted().catch(() => null) : null;
  const out = $('persistence');
  out.dataset.asked = String(asked);
  out.dataset.persisted = answer === true ? 'granted' : answer === false ? (asked ? 'not-granted' : 'not-asked') : 'unsupported';
  out.textContent =
    answer === true ? 'Persistent storage: granted. The browser keeps the models even when space runs low.'
    : answer === false && asked ? 'Persistent storage: not granted. The browser may delete the models when space runs low.'
    : answer === false ? 'Persistent storage: not asked yet (asked when you confirm a large download). Until then the browser may delete the models when space runs low.'
    : 'Persistent storage: not supported by this browser. It may delete the models when space runs low.';
}
chat.addEventListener('gpt-chat-storage', () => {
  showPersistence();
  showCached();
});
showPersistence();

chat.addEventListener('gpt-chat-ready', showCached);
// While a model downloads, its partial entry grows in the list (at most one refresh a second).
let listedAt = 0;
chat.addEventListener('gpt-chat-load-progress', (e) => {
  if (e.detail.phase !== 'download' || performance.now() - listedAt < 1000) return;
  listedAt = performance.now();
  showCached();
});
showCached();

// The service worker keeps the page and the bundles, so the demo opens with the network off.
if ('serviceWorker' in navigator && location.protocol !== 'file:') {
  navigator.serviceWorker.register('./sw.js').catch((e) => console.warn('gpt-chat demo: no offline support:', e));
}

/** Saved templates join the built-ins in the task picker (re-read whenever the picker is opened). */
async function listSavedTemplates() {
  const Editor = await customElements.whenDefined('gpt-template-editor');
  const saved = await Editor.store.list().catch(() => []);
  const select = $('template');
  for (const o of [...select.querySelectorAll('option[data-saved]')]) o.remove();
  for (const t of saved) {
    const option = new Option(`${t.name} (saved)`, t.id);
    option.dataset.saved = '';
    select.append(option);
  }
  const wanted = JSON.parse(localStorage.getItem('gpt-chat-demo-settings') ?? '{}').template;
  if (wanted && [...select.options].some((o) => o.value === wanted)) select.value = wanted;
}
listSavedTemplates();
$('template').addEventListener('focus', listSavedTemplates);
