// The page of bench/ttft-bench.mjs: a <gpt-chat> for the model in the query string, loaded from
// the real bundle with its real worker and IndexedDB cache, sent one message as soon as it is
// ready (`dist`: another build's folder, for --compare). window.ttft gets the times since navigation (performance.now()) and the ready event's
// loadTimings. Plain JS, served as is: nothing to bundle.
const params = new URLSearchParams(location.search);
const result = { scriptAt: performance.now() };
await import(`/${params.get('dist') ?? 'dist'}/gpt-chat.js`);
result.definedAt = performance.now();
const chat = document.createElement('gpt-chat');
chat.setAttribute('model', params.get('model'));
chat.setAttribute('engine', params.get('engine') ?? 'cpu');
if (params.get('quantize')) chat.setAttribute('quantize', params.get('quantize'));
chat.setAttribute('autoload', '');
chat.setAttribute('temperature', '0');
chat.setAttribute('max-tokens', '1');
chat.addEventListener('gpt-chat-ready', (e) => {
  result.readyAt = performance.now();
  result.info = e.detail;
  void chat.send(params.get('prompt') ?? 'Hello! What can you tell me about the sea?');
});
chat.addEventListener('gpt-chat-token', () => {
  if (result.firstTokenAt !== undefined) return;
  result.firstTokenAt = performance.now();
  globalThis.ttft = result;
});
chat.addEventListener('gpt-chat-error', (e) => {
  globalThis.ttft = { error: `${e.detail.code}: ${e.detail.message}` };
});
document.body.append(chat);
