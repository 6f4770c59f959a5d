// The page of bench/ttft-bench.mjs: a <gpt-chat> for the model in the query string, loaded from
// the real bundle with its real worker and IndexedDB cache, sent one message as soon as it is
// ready, or `typing` ms after (`dist`: another build's folder, for --compare). window.ttft gets the times since navigation (performance.now()) and the ready event's
// loadTimings. Plain JS, served as is: nothing to bundle.
const params = new URLSearchParams(location.search);
const result = { scriptAt: performance.now() };
await import(`/${params.get('dist') ?? 'dist'}/gpt-chat.js`);
result.definedAt = performance.now();
const chat = document.createElement('gpt-chat');
chat.setAttribute('model', params.get('model'));
chat.setAttribute('engine', params.get('engine') ?? 'cpu');
if (params.get('quantize')) chat.setAttribute('quantize', params.get('quantize'));
if (params.get('system')) chat.setAttribute('system-prompt', params.get('system'));
if (params.get('warm')) chat.setAttribute('warm-prompt', params.get('warm'));
// `typing`: ms between ready and the send, the visitor typing (the worker may read ahead meanwhile)
const typing = Number(params.get('typing') ?? 0);
chat.setAttribute('autoload', '');
chat.setAttribute('temperature', '0');
chat.setAttribute('max-tokens', '1');
chat.addEventListener('gpt-chat-ready', (e) => {
  result.readyAt = performance.now();
  result.info = e.detail;
  const send = () => {
    result.sentAt = performance.now();
    void chat.send(params.get('prompt') ?? 'Hello! What can you tell me about the sea?');
  };
  if (typing > 0) setTimeout(send, typing);
  else send();
});
chat.addEventListener('gpt-chat-token', () => {
  if (result.firstTokenAt !== undefined) return;
  result.firstTokenAt = performance.now();
});
// The reply (one token) ends: its prompt's tokens, and how many the worker had cached.
chat.addEventListener('gpt-chat-message', (e) => {
  result.promptTokens = e.detail.promptTokens;
  result.cachedPromptTokens = e.detail.cachedPromptTokens;
  globalThis.ttft = result;
});
chat.addEventListener('gpt-chat-error', (e) => {
  globalThis.ttft = { error: `${e.detail.code}: ${e.detail.message}` };
});
document.body.append(chat);
