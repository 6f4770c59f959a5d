// The real engine worker (dist/gpt-chat-worker.js) with one fault added, for the crash test
// (test/element/element-stress.browser.test.ts): armed over a BroadcastChannel, it throws an
// uncaught error in the worker's global scope (a microtask, as a bug in async code would) right
// after posting the third token of the next reply. The seam is this file; the crash is real: the
// browser reports it to the page as an 'error' event on the Worker, as it would any bug.
import '/dist/gpt-chat-worker.js';

const channel = new BroadcastChannel('gpt-chat-test-crash');
let armed = false;
let tokens = 0;
channel.onmessage = (e) => {
  if (e.data !== 'arm') return;
  armed = true;
  tokens = 0;
  channel.postMessage('armed');
};

const post = self.postMessage.bind(self);
self.postMessage = (message, ...rest) => {
  post(message, ...rest);
  if (armed && message?.type === 'token' && ++tokens === 3) {
    armed = false;
    queueMicrotask(() => {
      throw new Error('test fault: an uncaught error in the engine worker');
    });
  }
};
