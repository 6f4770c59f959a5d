// Every request the test server answers (method, URL, headers), for the test that nothing the user
// types leaves the page (test/element/element-privacy.browser.test.ts). GET /_request-log hands
// the entries over and starts a new log.
const log = [];

/** @web/test-runner (Koa) middleware: records each request before passing it on. */
export function requestLogMiddleware(ctx, next) {
  if (ctx.path === '/_request-log') {
    ctx.set('Cache-Control', 'no-store');
    ctx.body = log.splice(0);
    return undefined;
  }
  log.push({ method: ctx.method, url: ctx.url, headers: ctx.headers });
  if (log.length > 10_000) log.shift(); // a whole test run without a reader stays bounded
  return next();
}
