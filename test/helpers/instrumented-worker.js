// The real engine worker (dist/gpt-chat-worker.js) with test instruments, driven over a
// BroadcastChannel by the stress tests (test/element/element-stress.browser.test.ts):
// - 'arm': a fault. The worker throws an uncaught error in its global scope (in a microtask, as a
//   bug in async code would) right after posting the third token of the next reply. The seam is
//   this file; the crash is real: the browser reports it to the page as an 'error' event on the
//   Worker, as it would any bug.
// - 'resources': answers with the URLs of every request the worker made (its resource timing
//   entries, any origin), which the page cannot see from its own performance timeline.
import '/dist/gpt-chat-worker.js';

const channel = new BroadcastChannel('gpt-chat-test-worker');
let armed = false;
let tokens = 0;
channel.onmessage = (e) => {
  if (e.data === 'arm') {
    armed = true;
    tokens = 0;
    channel.postMessage({ armed: true });
  } else if (e.data === 'resources') {
    channel.postMessage({ resources: performance.getEntriesByType('resource').map((r) => r.name) });
  }
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
