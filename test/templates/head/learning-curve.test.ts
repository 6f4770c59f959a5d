// The learning curve's split and sizes, through a scripted runner (a stand-in for <gpt-chat>'s
// methods, which the browser test runs for real), and labelled rows pasted as CSV.
import { describe, expect, it } from 'vitest';
import { builtinTemplate } from '../../../src/templates/builtins.ts';
import type { TaskHead } from '../../../src/templates/head/head-schema.ts';
import { curveSizes, learningCurve } from '../../../src/templates/head/learning-curve.ts';
import { parseLabelledRows } from '../../../src/templates/labelled-rows.ts';

const t = builtinTemplate('sentiment')!;
const rows = Array.from({ length: 40 }, (_, i) => ({ fields: { text: `row ${i}` }, answer: i % 2 ? 'positive' : 'negative' }));

describe('learning curve', () => {
  it('holds out a quarter, learns from 8, 16, 32 then all the rest, and scores both ways on the same held-out rows', async () => {
    expect(curveSizes(30)).toEqual([8, 16, 30]);
    expect(curveSizes(8)).toEqual([8]);
    const trainedOn: number[] = [];
    const asked = new Map<string, number>();
    const fakeHead = (n: number) => ({ validation: { rows: n } }) as unknown as TaskHead;
    const curve = await learningCurve(
      {
        train: async (_t, r) => (trainedOn.push(r.length), fakeHead(r.length)),
        // the head is right on every row; few-shot on those whose number is even
        answer: async (tt, fields, head) => {
          asked.set(fields.text!, (asked.get(fields.text!) ?? 0) + 1);
          const right = rows.find((r) => r.fields.text === fields.text)!.answer;
          if (head) return right;
          expect(tt.examples.length).toBeGreaterThan(0);
          return Number(fields.text!.split(' ')[1]) % 2 === 0 ? right : 'nope';
        },
      },
      t,
      rows,
    );
    expect(curve.heldOut).toBe(10);
    expect(trainedOn).toEqual([8, 16, 30]);
    expect(curve.points.map((p) => p.rows)).toEqual([8, 16, 30]);
    expect(curve.points.every((p) => p.head === 1)).toBe(true);
    // the same 10 rows asked at each size, both ways: 3 sizes x 2
    expect(asked.size).toBe(10);
    expect([...asked.values()].every((n) => n === 6)).toBe(true);
    expect(curve.points[0]!.fewShot).toBeGreaterThan(0);
    expect(curve.points[0]!.fewShot).toBeLessThan(1);
  });

  it('needs 12 rows, and a prefix without a head is a gap, not a failure', async () => {
    await expect(learningCurve({ train: async () => ({}) as TaskHead, answer: async () => '' }, t, rows.slice(0, 11))).rejects.toMatchObject({ code: 'bad-argument', message: expect.stringMatching(/at least 12/) });
    const curve = await learningCurve({ train: async () => Promise.reject(new Error('one class')), answer: async () => 'positive' }, t, rows.slice(0, 12));
    expect(curve.points.map((p) => p.head)).toEqual([undefined]);
  });
});

describe('labelled rows', () => {
  it('reads CSV with quotes when no line has a tab, and refuses empty fields for training', () => {
    expect(parseLabelledRows(t, '"great, really",positive\n"say ""no""",negative')).toEqual([
      { fields: { text: 'great, really' }, answer: 'positive' },
      { fields: { text: 'say "no"' }, answer: 'negative' },
    ]);
    expect(() => parseLabelledRows(t, 'a,b,positive')).toThrow(/Row 1 has 3 cells; expected 2 \(text, answer\), separated by commas/);
    expect(() => parseLabelledRows(t, 'ok\tpositive\n \tnegative')).toThrow(/Row 2: the field "text" is empty/);
  });
});
