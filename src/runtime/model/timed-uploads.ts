import type { LoadTimings } from '../../formats/load-timings.ts';
import type { Backend } from '../backend.ts';

/**
 * `backend` for the weight loaders, with the time of every `createWeight` and `writeWeight` (memory
 * growth, buffers, the copy in) added to the `upload` phase of `timings`. Everything else passes
 * through to the backend itself.
 */
export function timedUploads(backend: Backend, timings: LoadTimings): Backend {
  const timed = <A extends unknown[], R>(fn: (...args: A) => R) => (...args: A): R => {
    const start = performance.now();
    try {
      return fn.apply(backend, args);
    } finally {
      timings.since('upload', start);
    }
  };
  const createWeight = timed(backend.createWeight);
  const writeWeight = timed(backend.writeWeight);
  return new Proxy(backend, {
    get(target, key) {
      if (key === 'createWeight') return createWeight;
      if (key === 'writeWeight') return writeWeight;
      const value: unknown = Reflect.get(target, key, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
