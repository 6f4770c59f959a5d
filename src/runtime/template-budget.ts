import { Environment, Interpreter, type Template } from '@huggingface/jinja';

/**
 * Limits on rendering one chat template. A template comes from the model folder, so it is
 * untrusted code: `{% for i in range(10**8) %}` or a loop over `'x' * 10**8` would otherwise run
 * the worker out of memory or hang it. Real templates take a few hundred steps per message
 * (Llama 3.1's with tools: ~3k for a short chat), far below these.
 */
export const TEMPLATE_LIMITS = {
  /** Expressions and statements evaluated. */
  steps: 1_000_000,
  /** Characters of any one string (the output included). */
  chars: 16 * 1024 * 1024,
  /** Items of any one list. */
  items: 1_000_000,
  /** Items of one range(). */
  rangeItems: 100_000,
  /** Milliseconds of rendering. */
  ms: 2000,
} as const;

/** A render that went past {@link TEMPLATE_LIMITS}: the caller reports it as 'bad-template'. */
export class TemplateBudgetError extends Error {}

/** An interpreter that counts its steps, the size of what it makes, and the time. */
class BudgetedInterpreter extends Interpreter {
  #steps = 0;
  readonly #deadline = performance.now() + TEMPLATE_LIMITS.ms;

  override evaluate(...args: Parameters<Interpreter['evaluate']>): ReturnType<Interpreter['evaluate']> {
    if (++this.#steps > TEMPLATE_LIMITS.steps) throw new TemplateBudgetError(`it took more than ${TEMPLATE_LIMITS.steps} steps`);
    if ((this.#steps & 1023) === 0 && performance.now() > this.#deadline) throw new TemplateBudgetError(`it ran for more than ${TEMPLATE_LIMITS.ms} ms`);
    const value = super.evaluate(...args);
    const v = value.value as unknown;
    if (typeof v === 'string' && v.length > TEMPLATE_LIMITS.chars) throw new TemplateBudgetError(`it made a string of ${v.length} characters (at most ${TEMPLATE_LIMITS.chars})`);
    if (Array.isArray(v) && v.length > TEMPLATE_LIMITS.items) throw new TemplateBudgetError(`it made a list of ${v.length} items (at most ${TEMPLATE_LIMITS.items})`);
    return value;
  }
}

/** Python's range(), refusing more than {@link TEMPLATE_LIMITS}.rangeItems items. */
function range(start: number, stop?: number, step = 1): number[] {
  if (stop === undefined) [start, stop] = [0, start];
  if (step === 0) throw new Error('range() step must not be zero');
  const n = Math.max(0, Math.ceil((stop - start) / step));
  if (n > TEMPLATE_LIMITS.rangeItems) throw new TemplateBudgetError(`it asked for range() of ${n} items (at most ${TEMPLATE_LIMITS.rangeItems})`);
  return Array.from({ length: n }, (_, i) => start + i * step);
}

const pad2 = (n: number) => String(n).padStart(2, '0');

/** strftime_now as @huggingface/jinja has it (Llama 3.x templates print today's date). */
function strftimeNow(format: string): string {
  const date = new Date();
  return format.replace(/%[YmdbBHM%]/g, (token) => {
    switch (token) {
      case '%Y': return String(date.getFullYear());
      case '%m': return pad2(date.getMonth() + 1);
      case '%d': return pad2(date.getDate());
      case '%b': return new Intl.DateTimeFormat(undefined, { month: 'short' }).format(date);
      case '%B': return new Intl.DateTimeFormat(undefined, { month: 'long' }).format(date);
      case '%H': return pad2(date.getHours());
      case '%M': return pad2(date.getMinutes());
      default: return '%';
    }
  });
}

/**
 * Renders `template` with `items` as `Template.render` does (the same globals), within
 * {@link TEMPLATE_LIMITS}. Throws TemplateBudgetError past a limit, the template's own errors otherwise.
 */
export function renderWithinBudget(template: Template, items: Record<string, unknown>): string {
  const env = new Environment();
  // Template.render's globals (setupGlobals, not exported), with a bounded range().
  const globals: Record<string, unknown> = {
    false: false, true: true, none: null, False: false, True: true, None: null,
    raise_exception: (message: string) => {
      throw new Error(message);
    },
    range,
    strftime_now: strftimeNow,
    ...items,
  };
  for (const [key, value] of Object.entries(globals)) env.set(key, value);
  const result = new BudgetedInterpreter(env).run(template.parsed).value as unknown;
  return String(result);
}
