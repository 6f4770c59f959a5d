// The built element (dist/gpt-chat.js) on a CSP page: model, engine and worker-url from the page's
// query; the worker URL carries the same ?csp= so the worker runs under the same policy.
import '/dist/gpt-chat.js';

const q = new URLSearchParams(location.search);
const el = document.createElement('gpt-chat');
el.setAttribute('model', q.get('model'));
el.setAttribute('engine', q.get('engine') ?? 'cpu');
el.setAttribute('temperature', '0');
el.setAttribute('max-tokens', '8');
el.setAttribute('worker-url', `/dist/gpt-chat-worker.js?csp=${q.get('csp')}`);
el.style.height = '300px';
document.body.append(el);
