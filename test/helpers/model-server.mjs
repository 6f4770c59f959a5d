// A model server for the cache tests and the benchmark: serves generated, model-like folders under
// /test-models/<name>-<bytes>[-shards<N>]/ and injects faults on request. Used as a
// @web/test-runner middleware (`modelServerMiddleware`) and as a plain Node handler (`handle`).
//
//   GET/HEAD /test-models/tiny-300000/config.json         files (Range, ETag, Last-Modified)
//   POST     /test-models/_control  {"reset":true}         forget faults and counters
//            {"faults":[{"file":"model.safetensors","kind":"drop","after":100000}]}
//            {"version":{"tiny-300000":2}}                 the files change (new bytes, new ETag)
//   GET      /test-models/_stats                           {"requests":{path:n},"bytes":{path:n},"gets":{path:[range]}}
//            (`gets`: the Range header of each GET, "" for none)
//   GET/HEAD /test-models/<dir>/<file>                     a real folder, with createModelServer({ dirs })
//
// Fault kinds (each applies `times` times, default 1, to GET requests whose path ends with `file`;
// `method` picks others, "*" any; status faults hit any method by default):
//   drop (the socket is destroyed after `after` body bytes), status (`status`), slow (`delayMs`
//   between 16 KiB writes), ignore-range (200 with the whole file), bad-range (206 with the wrong
//   bytes and Content-Range), html (an HTML error page with 200 text/html), html-binary (the same
//   page as application/octet-stream).

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PREFIX = '/test-models/';

/** Deterministic bytes at any offset: a 32-bit hash of (seed, word index), so Range needs no state. */
function fillRandom(out, seed, offset) {
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  const first = Math.floor(offset / 4);
  const word = new Uint8Array(4);
  const wordView = new DataView(word.buffer);
  for (let k = first, o = first * 4 - offset; o < out.length; k++, o += 4) {
    let x = (seed ^ Math.imul(k, 0x9e3779b1)) >>> 0;
    x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
    x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
    x = (x ^ (x >>> 16)) >>> 0;
    if (o >= 0 && o + 4 <= out.length) view.setUint32(o, x, true);
    else {
      wordView.setUint32(0, x, true);
      for (let j = 0; j < 4; j++) if (o + j >= 0 && o + j < out.length) out[o + j] = word[j];
    }
  }
}

function seedOf(text) {
  let h = 2166136261;
  for (const c of text) h = Math.imul(h ^ c.charCodeAt(0), 16777619);
  return h >>> 0;
}

/** A safetensors file of exactly `size` bytes: one U8 tensor filling what the header leaves. */
function safetensors(size, seed, tensor) {
  const HEADER = 128; // fixed, space-padded (the format allows trailing spaces), so sizes are exact
  const n = size - 8 - HEADER;
  const header = JSON.stringify({ [tensor]: { dtype: 'U8', shape: [n], data_offsets: [0, n] } }).padEnd(HEADER, ' ');
  const out = new Uint8Array(size);
  new DataView(out.buffer).setBigUint64(0, BigInt(HEADER), true);
  out.set(new TextEncoder().encode(header), 8);
  fillRandom(out.subarray(8 + HEADER), seed, 0);
  return out;
}

const json = (v) => new TextEncoder().encode(JSON.stringify(v, null, 1));

/** The files of a model folder, generated from its name and version. */
function makeFolder(name, version) {
  const m = /^([a-z0-9]+)-(\d+)(?:-shards(\d+))?$/.exec(name);
  if (!m) return null;
  const bytes = Number(m[2]);
  const shards = Number(m[3] ?? 0);
  const seed = seedOf(`${name}@${version}`);
  const files = new Map();
  files.set('config.json', json({ model_type: 'gpt2', n_layer: 1, n_embd: 8, n_head: 2, vocab_size: 16, n_positions: 32, version }));
  files.set('tokenizer.json', json({ version: '1.0', model: { type: 'BPE', vocab: { a: 0, b: 1 }, merges: [] }, added_tokens: [] }));
  files.set('tokenizer_config.json', json({ bos_token: '<s>', eos_token: '</s>' }));
  if (shards === 0) {
    files.set('model.safetensors', safetensors(bytes, seed, 'w'));
  } else {
    const weightMap = {};
    for (let i = 1; i <= shards; i++) {
      const shard = `model-${String(i).padStart(5, '0')}-of-${String(shards).padStart(5, '0')}.safetensors`;
      files.set(shard, safetensors(Math.floor(bytes / shards), seed + i, `w${i}`));
      weightMap[`w${i}`] = shard;
    }
    files.set('model.safetensors.index.json', json({ metadata: { total_size: bytes }, weight_map: weightMap }));
  }
  return files;
}

/** The files of a folder on disk (a real checkpoint from test/fixtures/generated/). */
function readFolder(dir) {
  const files = new Map();
  for (const name of readdirSync(dir)) files.set(name, new Uint8Array(readFileSync(join(dir, name))));
  return files;
}

/**
 * A fresh server state: generated folders, faults, counters. `dirs` maps folder names to
 * directories served as they are, so a real checkpoint loads through the same server.
 */
export function createModelServer({ dirs = {} } = {}) {
  const folders = new Map(); // `${name}@${version}` -> Map(file -> bytes)
  const versions = new Map();
  let faults = [];
  let stats = { requests: {}, bytes: {}, gets: {} };

  const folder = (name) => {
    const version = versions.get(name) ?? 1;
    const key = `${name}@${version}`;
    if (!folders.has(key)) folders.set(key, Object.hasOwn(dirs, name) ? readFolder(dirs[name]) : makeFolder(name, version));
    return folders.get(key);
  };

  // A fault hits GET requests unless it names `method` ("*" for any); status faults hit any method.
  const takeFault = (path, method) => {
    const matches = (x) => {
      const m = x.method ?? (x.kind === 'status' ? '*' : 'GET');
      return path.endsWith('/' + x.file) && (x.times ?? 1) > 0 && (m === '*' || m === method);
    };
    const f = faults.find(matches);
    if (f) f.times = (f.times ?? 1) - 1;
    return f;
  };

  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

  async function send(req, res, path, bytes, headers, status, fault) {
    const count = (n) => (stats.bytes[path] = (stats.bytes[path] ?? 0) + n);
    res.writeHead(status, { ...headers, 'Content-Length': String(bytes.length) });
    if (req.method === 'HEAD') return res.end();
    const slice = 16 * 1024;
    for (let o = 0; o < bytes.length; o += slice) {
      let part = bytes.subarray(o, Math.min(bytes.length, o + slice));
      // drop: Content-Length promised the whole body; the connection ends after `after` bytes.
      if (fault?.kind === 'drop' && o + part.length > fault.after) {
        part = part.subarray(0, Math.max(0, fault.after - o));
        count(part.length);
        res.write(part);
        await sleep(20); // let the bytes leave before the connection is cut
        res.socket?.destroy();
        return;
      }
      count(part.length);
      if (!res.write(part)) await new Promise((r) => res.once('drain', r));
      if (fault?.kind === 'slow') await sleep(fault.delayMs ?? 50);
      if (res.destroyed) return;
    }
    res.end();
  }

  async function serve(req, res, url) {
    const path = url.pathname;
    if (path === PREFIX + '_stats') {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
      return res.end(JSON.stringify(stats));
    }
    if (path === PREFIX + '_control') {
      let body = '';
      for await (const c of req) body += c;
      const cmd = body ? JSON.parse(body) : {};
      if (cmd.reset) { faults = []; stats = { requests: {}, bytes: {}, gets: {} }; versions.clear(); }
      if (cmd.faults) faults.push(...cmd.faults.map((f) => ({ ...f })));
      if (cmd.version) for (const [k, v] of Object.entries(cmd.version)) versions.set(k, v);
      res.writeHead(200, { 'Content-Type': 'application/json' });
      return res.end('{"ok":true}');
    }
    stats.requests[path] = (stats.requests[path] ?? 0) + 1;
    if (req.method === 'GET') (stats.gets[path] ??= []).push(req.headers.range ?? '');
    const [, name, file] = /^\/test-models\/([^/]+)\/(.+)$/.exec(path) ?? [];
    const files = name ? folder(name) : null;
    const fault = takeFault(path, req.method);
    if (fault?.kind === 'status') {
      res.writeHead(fault.status ?? 500, { 'Content-Type': 'text/plain' });
      return res.end(req.method === 'HEAD' ? undefined : `fault: HTTP ${fault.status ?? 500}`);
    }
    if (fault?.kind === 'html' || fault?.kind === 'html-binary') {
      const page = new TextEncoder().encode('<!DOCTYPE html>\n<html><body><h1>Sign in to continue</h1></body></html>\n');
      const type = fault.kind === 'html' ? 'text/html; charset=utf-8' : 'application/octet-stream';
      return send(req, res, path, page, { 'Content-Type': type }, 200, null);
    }
    const bytes = files?.get(file);
    if (!bytes) {
      res.writeHead(404, { 'Content-Type': 'text/plain' });
      return res.end(req.method === 'HEAD' ? undefined : 'not found');
    }
    const version = versions.get(name) ?? 1;
    const headers = {
      'Content-Type': file.endsWith('.json') ? 'application/json' : 'application/octet-stream',
      ETag: `"${name}-v${version}-${file}"`,
      'Last-Modified': new Date(Date.UTC(2024, 0, version)).toUTCString(),
      'Accept-Ranges': 'bytes',
      'Cache-Control': 'no-store',
    };
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    if (range && fault?.kind !== 'ignore-range') {
      const start = Number(range[1]);
      const end = range[2] ? Math.min(Number(range[2]) + 1, bytes.length) : bytes.length;
      if (start >= bytes.length) {
        res.writeHead(416, { 'Content-Range': `bytes */${bytes.length}` });
        return res.end();
      }
      const shift = fault?.kind === 'bad-range' ? 1 : 0;
      const body = bytes.subarray(start + shift, end);
      headers['Content-Range'] = `bytes ${start + shift}-${end - 1}/${bytes.length}`;
      return send(req, res, path, body, headers, 206, fault);
    }
    return send(req, res, path, bytes, headers, 200, fault);
  }

  /** Handles a request under /test-models/ (returns true), or leaves it to the caller (false). */
  function handle(req, res) {
    const url = new URL(req.url, 'http://localhost');
    if (!url.pathname.startsWith(PREFIX)) return false;
    serve(req, res, url).catch((e) => {
      if (!res.headersSent) res.writeHead(500);
      res.end(String(e));
    });
    return true;
  }

  return { handle };
}

// the GGUF fixtures (tools/make-fixtures.mjs) as /test-models/gguf-fixtures/<file>.gguf, a real
// checkpoint under its own name, for tests that count its requests (two tabs, one download), and
// gpu-misfit/, a config whose KV cache no GPU binds (engine/gpu-precheck.ts)
const generated = (dir) => fileURLToPath(new URL(`../fixtures/generated/${dir}/`, import.meta.url));
const shared = createModelServer({ dirs: { 'gguf-fixtures': generated('gguf'), 'tabs-smollm2': generated('smollm2-135m'), 'gpu-misfit': generated('gpu-misfit') } });

/** The @web/test-runner (Koa) middleware serving /test-models/ from one shared server state. */
export function modelServerMiddleware(ctx, next) {
  if (!shared.handle(ctx.req, ctx.res)) return next();
  ctx.respond = false;
  return undefined;
}
