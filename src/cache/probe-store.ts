import { defaultStore, type CacheStore } from './cache-store.ts';

/**
 * Facts measured once per device and kept beside the weights: the runtime's backend probe (which
 * of WebGPU and the CPU decodes a model shape faster here, runtime/backend-choice.ts) stores its
 * result here so a visitor's device is probed once, not on every load. Values are opaque to the
 * cache; the runtime checks what it reads back. `clearCache` drops them too (a probe runs again).
 */
export interface ProbeStore {
  get(key: string): Promise<unknown>;
  set(key: string, value: unknown): Promise<void>;
}

/** The probe results in `store` (default: the weight cache's IndexedDB database). */
export function probeStore(store: CacheStore = defaultStore()): ProbeStore {
  return {
    get: async (key) => ((await store.available()) ? store.get(['backend-probe', key]) : undefined),
    set: async (key, value) => {
      if (await store.available()) await store.write([[['backend-probe', key], value]]);
    },
  };
}
