import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { chunkCount, missingSpans, parseContentRange, rangeHeader } from '../../src/cache/chunk-plan.ts';
import { parseModelRecord, reopen, type ModelRecord } from '../../src/cache/manifest.ts';
import { chunkCheck, chunkRecord, checksAtOnce, matchesRecord } from '../../src/cache/chunk-check.ts';
import { ProgressMeter, type CacheProgress } from '../../src/cache/progress.ts';
import { Sha256, sha256Hex } from '../../src/cache/sha256.ts';
import { SingleFlight } from '../../src/cache/single-flight.ts';
import { checkFirstBytes, checkResponse } from '../../src/cache/response-check.ts';
import { shardNames } from '../../src/cache/probe.ts';
import { GptError } from '../../src/errors.ts';

const H = 'a'.repeat(64);

function record(overrides: Partial<ModelRecord> = {}): ModelRecord {
  return {
    version: 1,
    url: 'https://x.test/m/',
    chunkSize: 10,
    absent: [],
    createdAt: 1,
    complete: true,
    files: [{ name: 'model.safetensors', size: 25, etag: null, lastModified: null, contentType: null, generation: 'g', sha256: null, chunks: [{ size: 10, sha256: H }, { size: 10, sha256: H }, { size: 5, sha256: H }] }],
    ...overrides,
  };
}

function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    return (e as GptError).code + ': ' + (e as GptError).message;
  }
  return 'no error';
}

describe('chunk planning', () => {
  it('cuts a file into chunks and finds the runs of missing ones', () => {
    expect(chunkCount(25, 10)).toBe(3);
    expect(chunkCount(0, 10)).toBe(0);
    const c = { size: 10, sha256: H };
    expect(missingSpans(25, 10, [])).toEqual([{ first: 0, start: 0, end: 25 }]);
    expect(missingSpans(25, 10, [c])).toEqual([{ first: 1, start: 10, end: 25 }]);
    expect(missingSpans(45, 10, [c, null, c, null, null])).toEqual([
      { first: 1, start: 10, end: 20 },
      { first: 3, start: 30, end: 45 },
    ]);
    expect(missingSpans(25, 10, [c, c, { size: 5, sha256: H }])).toEqual([]);
    expect(missingSpans(null, 10, [c])).toEqual([{ first: 0, start: 0, end: null }]);
  });

  it('writes Range headers and parses Content-Range', () => {
    expect(rangeHeader({ first: 0, start: 0, end: 25 }, 25)).toBeNull();
    expect(rangeHeader({ first: 1, start: 10, end: 25 }, 25)).toBe('bytes=10-24');
    expect(rangeHeader({ first: 0, start: 0, end: 10 }, 25)).toBe('bytes=0-9');
    expect(parseContentRange('bytes 10-24/25')).toEqual([10, 25, 25]);
    expect(parseContentRange('bytes 10-24/*')).toEqual([10, 25, null]);
    expect(parseContentRange('bytes */25')).toBeNull();
    expect(parseContentRange(null)).toBeNull();
  });
});

describe('manifest validation', () => {
  it('accepts a consistent record and reopens it as partial', () => {
    const r = parseModelRecord(record(), 'test');
    const p = reopen(r, new Map([['model.safetensors', [1]]]));
    expect(p.complete).toBe(false);
    expect(p.files[0]!.chunks[1]).toBeNull();
    expect(parseModelRecord(p, 'partial').files[0]!.chunks[0]).toEqual({ size: 10, sha256: H });
  });

  it('names the field of a damaged record', () => {
    expect(codeOf(() => parseModelRecord(null, 'm'))).toMatch(/^integrity: Cache record m: not an object/);
    expect(codeOf(() => parseModelRecord({ ...record(), version: 2 }, 'm'))).toMatch(/version is 2, expected 1/);
    const short = record();
    (short.files[0] as { size: number }).size = 30;
    expect(codeOf(() => parseModelRecord(short, 'm'))).toMatch(/file "model.safetensors": chunks add up to 25 bytes, the file has 30/);
    const hole = record();
    (hole.files[0]!.chunks as unknown[])[1] = null;
    expect(codeOf(() => parseModelRecord(hole, 'm'))).toMatch(/chunk 1 is missing from a complete record/);
    const badHash = record();
    (badHash.files[0]!.chunks as unknown[])[0] = { size: 10, sha256: 'xyz' };
    expect(codeOf(() => parseModelRecord(badHash, 'm'))).toMatch(/chunk 0 sha256 is not 64 hex digits/);
    const badCheck = record();
    (badCheck.files[0]!.chunks as unknown[])[0] = { size: 10, sha256: H, xxh64: 'abc' };
    expect(codeOf(() => parseModelRecord(badCheck, 'm'))).toMatch(/chunk 0 xxh64 is not 16 hex digits/);
    const uneven = record();
    (uneven.files[0]!.chunks as unknown[])[0] = { size: 5, sha256: H };
    expect(codeOf(() => parseModelRecord(uneven, 'm'))).toMatch(/chunk 0 size 5|chunk 0 has 5 bytes/);
  });
});

describe('chunk check', () => {
  it('records XXH64 (seed 0, the reference vectors) beside the SHA-256, and matches bytes by it', async () => {
    // xxHash's reference: XXH64("") = ef46db3751d8e999, XXH64("abc") = 44bc2cf5ad770999
    const check = (await chunkCheck())!;
    expect(check(new Uint8Array(0))).toBe('ef46db3751d8e999');
    expect(check(new TextEncoder().encode('abc'))).toBe('44bc2cf5ad770999');
    const bytes = new Uint8Array(randomBytes(70_001));
    const rec = await chunkRecord(bytes);
    expect(rec).toEqual({ size: 70_001, sha256: createHash('sha256').update(bytes).digest('hex'), xxh64: check(bytes) });
    expect(await matchesRecord(bytes, rec)).toBe(true);
    expect(await checksAtOnce(rec)).toBe(true);
    const flipped = bytes.slice();
    flipped[69_999]! ^= 0x04;
    expect(await matchesRecord(flipped, rec)).toBe(false);
    // a record without XXH64 (written before it) is matched by its SHA-256
    const old = { size: rec.size, sha256: rec.sha256 };
    expect(await checksAtOnce(old)).toBe(false);
    expect(await matchesRecord(bytes, old)).toBe(true);
    expect(await matchesRecord(flipped, old)).toBe(false);
    // the XXH64 decides where it is recorded: bytes it does not describe fail though the SHA-256 fits
    expect(await matchesRecord(bytes, { ...old, xxh64: check(flipped) })).toBe(false);
  });
});

describe('sha256', () => {
  it('the streaming hash equals node:crypto for any split of the input', async () => {
    for (const n of [0, 1, 55, 56, 63, 64, 65, 1000, 70_001]) {
      const data = new Uint8Array(randomBytes(n));
      const want = createHash('sha256').update(data).digest('hex');
      const h = new Sha256();
      for (let o = 0; o < n; o += 37) h.update(data.subarray(o, Math.min(n, o + 37)));
      expect(h.hex()).toBe(want);
      expect(await sha256Hex(data)).toBe(want);
    }
  });
});

describe('progress', () => {
  it('is monotonic across a re-fetched span and reports rate and time left', () => {
    const seen: CacheProgress[] = [];
    let t = 0;
    const m = new ProgressMeter((p) => seen.push(p), () => t, 0);
    m.addFile('a', 100, 20);
    m.addFile('b', 100, 0);
    t = 1000;
    m.advance('a', 60, 40);
    t = 2000;
    m.advance('a', 40, 20); // a span fetched again from byte 20 does not move progress back
    t = 3000;
    m.advance('a', 100, 60);
    m.report('a', false);
    expect(seen.map((p) => p.loaded)).toEqual([60, 60, 100, 100]);
    expect(seen.every((p) => p.total === 200)).toBe(true);
    expect(seen[2]!.bytesPerSecond).toBeCloseTo(((120 - 40) * 1000) / 2000);
    expect(seen[2]!.secondsLeft).toBeCloseTo(100 / 40);
    expect(seen[2]!.fileLoaded).toBe(100);
  });
});

describe('single flight', () => {
  it('shares one run between callers and aborts it only when every caller left', async () => {
    const f = new SingleFlight<string, number>();
    let starts = 0;
    let innerSignal: AbortSignal | undefined;
    let finish!: (v: string) => void;
    const start = (signal: AbortSignal, emit: (p: number) => void) => {
      starts++;
      innerSignal = signal;
      emit(1);
      return new Promise<string>((r) => (finish = r));
    };
    const a = new AbortController();
    const got: number[] = [];
    const p1 = f.run('k', start, a.signal, (p) => got.push(p));
    const p2 = f.run('k', start);
    expect(starts).toBe(1);
    a.abort();
    await expect(p1).rejects.toMatchObject({ code: 'aborted' });
    expect(innerSignal!.aborted).toBe(false); // the second caller still waits
    finish('done');
    await expect(p2).resolves.toBe('done');

    const b = new AbortController();
    const p3 = f.run('k', start, b.signal);
    b.abort();
    await expect(p3).rejects.toMatchObject({ code: 'aborted' });
    expect(innerSignal!.aborted).toBe(true);
    expect(starts).toBe(2); // the finished run was forgotten: p3 started afresh
  });

  it('abort(key) ends the run for every caller, and a later run of the key starts afresh', async () => {
    const f = new SingleFlight<string, number>();
    const signals: AbortSignal[] = [];
    const start = (signal: AbortSignal) => {
      signals.push(signal);
      return new Promise<string>((resolve, reject) => {
        signal.addEventListener('abort', () => reject(new GptError('aborted', 'stale')));
        if (signals.length === 2) resolve('second');
      });
    };
    const p1 = f.run('k', start);
    const p2 = f.run('k', start);
    f.abort('k');
    const p3 = f.run('k', start);
    await expect(p1).rejects.toMatchObject({ code: 'aborted' });
    await expect(p2).rejects.toMatchObject({ code: 'aborted' });
    await expect(p3).resolves.toBe('second');
    expect(signals.map((s) => s.aborted)).toEqual([true, false]);
  });
});

describe('response checks', () => {
  it('rejects HTML and files that do not look like what their name says', () => {
    const res = (status: number, type: string) => new Response('x', { status, headers: { 'content-type': type } });
    expect(codeOf(() => checkResponse(res(200, 'text/html; charset=utf-8'), 'u/', 'model.safetensors'))).toMatch(/^network: u\/: the server answered model.safetensors with an HTML page/);
    expect(codeOf(() => checkResponse(res(404, 'text/plain'), 'u/', 'config.json'))).toMatch(/^file-missing: u\/: HTTP 404 for config.json/);
    expect(codeOf(() => checkResponse(res(503, 'text/plain'), 'u/', 'a'))).toMatch(/^network: u\/: HTTP 503/);
    expect(codeOf(() => checkResponse(res(200, 'application/octet-stream'), 'u/', 'a'))).toBe('no error');
    const enc = new TextEncoder();
    expect(codeOf(() => checkFirstBytes(enc.encode('  <!DOCTYPE html><p>'), 100, 'u/', 'model.safetensors'))).toMatch(/starts like an HTML/);
    expect(codeOf(() => checkFirstBytes(enc.encode('hello'), 5, 'u/', 'config.json'))).toMatch(/does not start with '\{'/);
    const st = new Uint8Array(20);
    new DataView(st.buffer).setBigUint64(0, 1000n, true);
    expect(codeOf(() => checkFirstBytes(st, 20, 'u/', 'model.safetensors'))).toMatch(/header length 1000 does not fit a 20-byte file/);
    new DataView(st.buffer).setBigUint64(0, 4n, true);
    st[8] = 0x7b;
    expect(codeOf(() => checkFirstBytes(st, 20, 'u/', 'model.safetensors'))).toBe('no error');
  });

  it('reads shard names from an index', () => {
    expect(shardNames(JSON.stringify({ weight_map: { a: 'm-2.safetensors', b: 'm-1.safetensors', c: 'm-2.safetensors' } }), 'u/')).toEqual(['m-1.safetensors', 'm-2.safetensors']);
    expect(codeOf(() => shardNames('{}', 'u/'))).toMatch(/^bad-json: .*no "weight_map"/);
    expect(codeOf(() => shardNames(JSON.stringify({ weight_map: { a: '../x' } }), 'u/'))).toMatch(/names shard "..\/x"/);
  });
});
