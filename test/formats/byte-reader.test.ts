import { describe, expect, it } from 'vitest';
import { ByteReader } from '../../src/formats/byte-reader.ts';

describe('ByteReader.view', () => {
  async function* chunks(...parts: Uint8Array[]) {
    yield* parts;
  }

  it('hands out a view of the chunk when the bytes lie inside it on an 8-byte boundary, else a fresh copy', async () => {
    const buffer = new Uint8Array(64).map((_, i) => i);
    const r = new ByteReader(chunks(buffer.subarray(0, 40), buffer.subarray(40)));
    const a = (await r.view(16))!;
    expect(a.buffer).toBe(buffer.buffer); // a view, no copy
    expect([...a]).toEqual([...buffer.subarray(0, 16)]);
    const b = (await r.view(4))!; // at offset 16: aligned, inside
    expect(b.buffer).toBe(buffer.buffer);
    const c = (await r.view(8))!; // at offset 20: not 8-aligned, so copied
    expect(c.buffer).not.toBe(buffer.buffer);
    expect([...c]).toEqual([20, 21, 22, 23, 24, 25, 26, 27]);
    const d = (await r.view(20))!; // 28..47 straddles the two chunks: copied
    expect(d.buffer).not.toBe(buffer.buffer);
    expect([...d]).toEqual([...buffer.subarray(28, 48)]);
    expect(r.position).toBe(48);
    expect(await r.view(17)).toBeNull(); // past the end
  });
});
