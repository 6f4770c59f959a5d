// Content-Security-Policy per request, for the strict-CSP tests (test/element/element-csp.browser.test.ts):
// a URL with ?csp=<name> is served with that policy. A dedicated worker takes the policy of its own
// script's response, so the worker URL carries the query as well as the page.
export const POLICIES = {
  // No 'wasm-unsafe-eval' (WebAssembly cannot compile), no blob: workers, no requests elsewhere.
  strict: "script-src 'self'; worker-src 'self'; connect-src 'self'",
  // WebAssembly allowed, but still no blob: workers: the element needs `worker-url`.
  'no-blob': "script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; connect-src 'self'",
};

/** @web/test-runner (Koa) middleware: adds the policy named by `?csp=` to the response. */
export async function cspMiddleware(ctx, next) {
  await next();
  const policy = POLICIES[ctx.query.csp];
  if (policy) ctx.set('Content-Security-Policy', policy);
}
