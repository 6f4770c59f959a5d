import { describe, expect, it } from 'vitest';
import { GptError } from '../../src/errors.ts';
import { scanStopStrings, StopStringMatcher } from '../../src/runtime/stop-strings.ts';

describe('scanStopStrings', () => {
  it('stops at the earliest complete stop string', () => {
    expect(scanStopStrings('Sure.\nUser: hi', ['\nUser:'])).toEqual({ safeEnd: 5, stopped: true });
    expect(scanStopStrings('a END b STOP', ['STOP', 'END'])).toEqual({ safeEnd: 2, stopped: true });
  });

  it('holds back the longest tail that could become a stop string', () => {
    expect(scanStopStrings('Sure.\nUs', ['\nUser:'])).toEqual({ safeEnd: 5, stopped: false });
    expect(scanStopStrings('Sure.\n', ['\nUser:', '\n\n'])).toEqual({ safeEnd: 5, stopped: false });
    expect(scanStopStrings('Sure', ['\nUser:'])).toEqual({ safeEnd: 4, stopped: false });
    expect(scanStopStrings('abc', [])).toEqual({ safeEnd: 3, stopped: false });
  });
});

describe('StopStringMatcher', () => {
  it('streams text, holding back possible stop prefixes, and drops the stop string', () => {
    const m = new StopStringMatcher(['\nUser:']);
    expect(m.push('Hello')).toEqual({ text: 'Hello', stopped: false });
    expect(m.push(' there\nU')).toEqual({ text: ' there', stopped: false });
    expect(m.push('nder')).toEqual({ text: '\nUnder', stopped: false }); // it was not a stop after all
    expect(m.push('\nUs')).toEqual({ text: '', stopped: false });
    expect(m.push('er: next')).toEqual({ text: '', stopped: true });
    expect(m.stopped).toBe(true);
    expect(m.push('more')).toEqual({ text: '', stopped: true });
    expect(m.end()).toBe('');
  });

  it('gives the held-back tail back when generation ends for another reason', () => {
    const m = new StopStringMatcher(['###']);
    expect(m.push('done #')).toEqual({ text: 'done ', stopped: false });
    expect(m.end('#')).toBe('##');
  });

  it('finds a stop string split over many deltas, whatever the split', () => {
    const text = 'The answer is 42.\n\nQuestion: next';
    for (let cut = 1; cut < 8; cut++) {
      const m = new StopStringMatcher(['\n\nQuestion:', 'never']);
      let out = '';
      let stopped = false;
      for (let i = 0; i < text.length && !stopped; i += cut) {
        const r = m.push(text.slice(i, i + cut));
        out += r.text;
        stopped = r.stopped;
      }
      expect(stopped).toBe(true);
      expect(out).toBe('The answer is 42.');
    }
  });

  it('refuses empty stop strings', () => {
    expect(() => new StopStringMatcher(['ok', ''])).toThrow(GptError);
    expect(() => new StopStringMatcher(['ok', ''])).toThrow(/stop string 1/);
  });
});
