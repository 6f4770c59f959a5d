import { describe, expect, it } from 'vitest';
import { LoadTimings } from '../../src/formats/load-timings.ts';

describe('LoadTimings', () => {
  it('adds up a phase over its calls, times async work even when it throws, and rounds to 0.1 ms', async () => {
    const t = new LoadTimings();
    t.add('chunkReads', 1.04);
    t.add('chunkReads', 2.02);
    await t.time('parse', () => new Promise((r) => setTimeout(r, 20)));
    await expect(t.time('prepare', async () => Promise.reject(new Error('no')))).rejects.toThrow('no');
    const start = performance.now() - 5;
    expect(t.since('upload', start)).toBeGreaterThanOrEqual(start + 5);
    const record = t.toJSON();
    expect(record.chunkReads).toBe(3.1);
    expect(record.parse).toBeGreaterThanOrEqual(19);
    expect(record.prepare).toBeGreaterThanOrEqual(0);
    expect(record.upload).toBeGreaterThanOrEqual(5);
    expect(Object.keys(record).sort()).toEqual(['chunkReads', 'parse', 'prepare', 'upload']);
    expect(JSON.parse(JSON.stringify(t))).toEqual(record); // crosses a worker as plain data
  });
});
