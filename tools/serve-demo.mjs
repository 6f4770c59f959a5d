#!/usr/bin/env node
// `npm start`: serves the demo page (demo/ at /), the bundles (dist/ at /dist/) and the bundled
// models (models/ at /models/) with node:http only, and prints the URL. It speaks what the weight
// cache needs: HEAD, Range (206), ETag and Last-Modified, and CORS headers so the bundle and models
// can be used from a page on another origin (the cross-origin test serves them from a second port).
//
//   node tools/serve-demo.mjs [--port 8080] [--host 127.0.0.1]
import { createReadStream, promises as fs } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { Transform } from 'node:stream';
import { fileURLToPath } from 'node:url';

const repo = resolve(fileURLToPath(new URL('..', import.meta.url)));

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/plain; charset=utf-8',
  '.safetensors': 'application/octet-stream',
  '.bin': 'application/octet-stream',
  '.gguf': 'application/octet-stream',
  // WebAssembly.instantiateStreaming needs this type (bench/gguf-bench.mjs serves llama.cpp's wasm)
  '.wasm': 'application/wasm',
};

/** URL prefix -> folder. The page is the demo; the rest is what it loads. */
const MOUNTS = [
  ['/dist/', 'dist'],
  ['/models/', 'models'],
  ['/', 'demo'],
];

/** The file a URL path maps to, or null when it is outside every mount (`..` included). */
function fileFor(pathname, root) {
  for (const [prefix, dir] of MOUNTS) {
    if (!pathname.startsWith(prefix)) continue;
    const base = resolve(root, dir);
    const file = normalize(join(base, decodeURIComponent(pathname.slice(prefix.length))));
    if (file !== base && !file.startsWith(base + sep)) return null;
    return file;
  }
  return null;
}

/**
 * A stream that passes bytes on at about `bytesPerSecond`, in 64 KiB slices: a slow network for
 * tests that watch what the page shows while a model downloads.
 */
function paced(bytesPerSecond) {
  return new Transform({
    async transform(chunk, _encoding, done) {
      for (let at = 0; at < chunk.length; at += 65536) {
        const slice = chunk.subarray(at, at + 65536);
        await new Promise((ok) => setTimeout(ok, (slice.length / bytesPerSecond) * 1000));
        this.push(slice);
      }
      done();
    },
  });
}

/**
 * Starts the server. `onRequest(pathname, method)` sees every request (tests count the model
 * files fetched); `pages` maps extra paths to HTML (tests add a page that loads the bundle from
 * another origin); `modelBytesPerSecond` slows the model files down to that rate. Resolves with
 * the server and its URL once it listens.
 */
export async function startDemoServer({ port = 8080, host = '127.0.0.1', root = repo, onRequest = () => {}, pages = {}, modelBytesPerSecond = 0 } = {}) {
  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    onRequest(url.pathname, req.method);
    res.setHeader('Access-Control-Allow-Origin', '*');
    res.setHeader('Access-Control-Expose-Headers', 'Content-Length, Content-Range, Accept-Ranges, ETag, Last-Modified');
    res.setHeader('Access-Control-Allow-Headers', 'Range, If-Range, If-None-Match');
    // The demo's service worker and the weight cache decide what is kept; the server always revalidates.
    res.setHeader('Cache-Control', 'no-cache');
    if (req.method === 'OPTIONS') return void res.writeHead(204).end();
    if (req.method !== 'GET' && req.method !== 'HEAD') return void res.writeHead(405, { Allow: 'GET, HEAD' }).end();
    if (Object.hasOwn(pages, url.pathname)) return void res.writeHead(200, { 'Content-Type': TYPES['.html'] }).end(req.method === 'HEAD' ? '' : pages[url.pathname]);

    let file = fileFor(url.pathname, root);
    if (!file) return void res.writeHead(403).end('Forbidden');
    let stat = await fs.stat(file).catch(() => null);
    if (stat?.isDirectory()) {
      file = join(file, 'index.html');
      stat = await fs.stat(file).catch(() => null);
    }
    if (!stat?.isFile()) return void res.writeHead(404, { 'Content-Type': 'text/plain' }).end(`Not found: ${url.pathname}`);

    const etag = `"${stat.size.toString(16)}-${Math.floor(stat.mtimeMs).toString(16)}"`;
    const headers = {
      'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream',
      'Accept-Ranges': 'bytes',
      ETag: etag,
      'Last-Modified': stat.mtime.toUTCString(),
    };
    if (extname(file) === '.js' && file.endsWith(`${sep}sw.js`)) headers['Service-Worker-Allowed'] = '/';
    if (req.headers['if-none-match'] === etag) return void res.writeHead(304, headers).end();

    let start = 0;
    let end = stat.size - 1;
    let status = 200;
    const range = /^bytes=(\d*)-(\d*)$/.exec(req.headers.range ?? '');
    if (range && (!req.headers['if-range'] || req.headers['if-range'] === etag)) {
      start = range[1] ? Number(range[1]) : Math.max(0, stat.size - Number(range[2]));
      end = range[1] && range[2] ? Math.min(Number(range[2]), stat.size - 1) : stat.size - 1;
      if (start > end || start >= stat.size) {
        return void res.writeHead(416, { 'Content-Range': `bytes */${stat.size}` }).end();
      }
      status = 206;
      headers['Content-Range'] = `bytes ${start}-${end}/${stat.size}`;
    }
    headers['Content-Length'] = String(end - start + 1);
    res.writeHead(status, headers);
    if (req.method === 'HEAD' || stat.size === 0) return void res.end();
    const body = createReadStream(file, { start, end });
    if (modelBytesPerSecond > 0 && url.pathname.startsWith('/models/')) body.pipe(paced(modelBytesPerSecond)).pipe(res);
    else body.pipe(res);
  });
  await new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(port, host, ok);
  });
  const address = server.address();
  const shown = host === '0.0.0.0' || host === '::' ? 'localhost' : host;
  return { server, url: `http://${shown}:${address.port}/` };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const arg = (name, fallback) => {
    const i = process.argv.indexOf(name);
    return i > 0 ? process.argv[i + 1] : fallback;
  };
  const port = Number(arg('--port', process.env.PORT ?? 8080));
  const host = arg('--host', process.env.HOST ?? '127.0.0.1');
  try {
    await fs.access(join(repo, 'dist', 'gpt-chat.js'));
  } catch {
    console.warn('gpt-chat: dist/gpt-chat.js is missing. HINT: run `npm run build` first (`npm start` does it for you).');
  }
  const { url } = await startDemoServer({ port, host }).catch((e) => {
    console.error(`gpt-chat: could not listen on ${host}:${port} (${e.message}). HINT: pass --port <another port>, or --port 0 for any free one.`);
    process.exit(1);
  });
  console.log(`gpt-chat demo: ${url}`);
}
