// Chat templates are code from the model folder: rendered with a step, size and time budget, a
// runaway one is a 'bad-template' GptError in well under a second, never a worker out of memory.
import { describe, expect, it } from 'vitest';
import { ChatTemplate } from '../../src/runtime/chat-template.ts';

const specials = { bosToken: '<s>', eosToken: '</s>' };
const hi = [{ role: 'user' as const, content: 'hi' }];

function renderError(source: string): unknown {
  try {
    new ChatTemplate(source, specials).render(hi);
  } catch (e) {
    return e;
  }
  return null;
}

describe('chat template budget', () => {
  const runaway: [string, string, RegExp][] = [
    ['a loop of 10^8', '{% for i in range(100000000) %}x{% endfor %}', /range\(\) of 100000000 items/],
    ['nested loops of 10^4 x 10^4', '{% for i in range(10000) %}{% for j in range(10000) %}{{ j }}{% endfor %}{% endfor %}', /more than (1000000 steps|2000 ms)/], // steps or time, whichever this machine hits first
    ['a list grown past the size limit', "{% set ns = namespace(l=[1]) %}{% for i in range(30) %}{% set ns.l = ns.l + ns.l %}{% endfor %}{{ ns.l|length }}", /items \(at most/],
    ['output doubling', "{% set ns = namespace(s='x') %}{% for i in range(40) %}{% set ns.s = ns.s + ns.s %}{% endfor %}{{ ns.s }}", /characters \(at most/],
  ];
  for (const [what, source, message] of runaway) {
    it(`stops ${what} as bad-template`, () => {
      const start = performance.now();
      const e = renderError(source);
      expect(e).toMatchObject({ code: 'bad-template', message: expect.stringMatching(message) });
      expect(performance.now() - start).toBeLessThan(10_000);
    });
  }

  it('renders real templates as before (globals: range, raise_exception, strftime_now, none)', () => {
    const source = "{{ bos_token }}{% for m in messages %}{% for i in range(2) %}{{ i }}{% endfor %}{{ m['content'] }}{% endfor %}{% if none is none %}{{ strftime_now('%Y')|length }}{% endif %}";
    expect(new ChatTemplate(source, specials).render(hi)).toBe('<s>01hi4');
    expect(renderError("{{ raise_exception('roles must alternate') }}")).toMatchObject({ code: 'bad-config', message: expect.stringMatching(/roles must alternate/) });
  });
});
