// The demo's service worker: keeps the page and the bundles so that, after one visit, the demo
// opens and chats with the network off. Model files are not kept here: the element's weight cache
// (IndexedDB) already holds them and reads them without any request.
//
// Network first, cache as fallback: a reload online always gets the newest page and bundles.
const CACHE = 'gpt-chat-demo-v1';
const SHELL = ['./', './index.html', './demo.js', '../dist/gpt-chat.js', '../dist/gpt-chat-worker.js'];

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(SHELL.map((p) => new URL(p, self.registration.scope))))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

/** Page, scripts and styles of this origin; never model files or anything cross-origin. */
function isShell(url) {
  return url.origin === self.location.origin && !url.pathname.includes('/models/') && !url.pathname.endsWith('.map');
}

self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== 'GET' || !isShell(url)) return;
  event.respondWith(
    fetch(event.request)
      .then((response) => {
        if (response.ok && response.type === 'basic') {
          const copy = response.clone();
          event.waitUntil(caches.open(CACHE).then((cache) => cache.put(event.request, copy)));
        }
        return response;
      })
      .catch(async () => (await caches.match(event.request, { ignoreSearch: true })) ?? Response.error()),
  );
});
