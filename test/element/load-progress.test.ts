import { describe, expect, it } from 'vitest';
import { nextStage, type LoadStage } from '../../src/element/load-progress.ts';
import type { EngineLoadProgress } from '../../src/engine/engine.ts';

const run = (reports: EngineLoadProgress[]): LoadStage[] => {
  const out: LoadStage[] = [];
  for (const p of reports) out.push(nextStage(out[out.length - 1], p));
  return out;
};

describe('one progress bar for a whole load', () => {
  it('download then preparing then compiling: never back to 0, never backwards, ends near full', () => {
    const stages = run([
      { phase: 'download', loaded: 0, total: 100 },
      { phase: 'download', loaded: 50, total: 100 },
      { phase: 'download', loaded: 100, total: 100 },
      { phase: 'weights', loaded: 0, total: 90 },
      { phase: 'weights', loaded: 45, total: 90 },
      { phase: 'weights', loaded: 90, total: 90 },
    ]);
    const f = stages.map((s) => s.fraction);
    expect(f).toEqual([...f].sort((a, b) => a - b));
    expect(f[1]).toBeCloseTo(0.4);
    expect(f[3]).toBeCloseTo(0.8); // preparing starts where the download ended, not at 0
    expect(f[4]).toBeCloseTo(0.89);
    expect(stages[5]!.phase).toBe('compile');
    expect(f[5]).toBeCloseTo(0.98);
  });

  it('a load from this device: read back, then preparing takes the rest', () => {
    const f = run([
      { phase: 'cache', loaded: 10, total: 10 },
      { phase: 'weights', loaded: 5, total: 10 },
    ]).map((s) => s.fraction);
    expect(f[0]).toBeCloseTo(0.45);
    expect(f[1]).toBeCloseTo(0.715);
  });

  it('preparing alone fills the bar from 0; a report that goes back does not move the bar back', () => {
    const f = run([
      { phase: 'weights', loaded: 50, total: 100 },
      { phase: 'weights', loaded: 20, total: 100 },
    ]).map((s) => s.fraction);
    expect(f[0]).toBeCloseTo(0.49);
    expect(f[1]).toBeCloseTo(0.49);
  });
});
