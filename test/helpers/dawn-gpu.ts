// Dawn's `GPU` (src/runtime/webgpu/node-gpu.ts) with a hook on every device it hands out: the tests
// of device loss record the devices so they can destroy the live one, and the out-of-memory tests
// put a memory budget in front of it.
import { nodeGpu } from '../../src/node.ts';

/** Options of {@link dawnGpu}. */
export interface DawnGpuOptions {
  /** Called with each new device; returns the device the runtime gets (the same, or a wrapper). */
  readonly onDevice?: (device: GPUDevice) => GPUDevice;
  /** While `gone.gpu` is true, there is no adapter (the GPU went away: a driver crash, an unplugged eGPU). */
  readonly gone?: { gpu: boolean };
}

/** A `gpu` for `loadLanguageModel(..., { device: { gpu } })`. */
export function dawnGpu(options: DawnGpuOptions = {}): () => Promise<GPU> {
  return async () => {
    const gpu = await nodeGpu();
    return {
      requestAdapter: async (adapterOptions?: GPURequestAdapterOptions) => {
        if (options.gone?.gpu) return null;
        const adapter = await gpu.requestAdapter(adapterOptions);
        if (!adapter) return null;
        return forward(adapter, {
          requestDevice: async (descriptor?: GPUDeviceDescriptor) => {
            const device = await adapter.requestDevice(descriptor);
            return options.onDevice ? options.onDevice(device) : device;
          },
        });
      },
    } as unknown as GPU;
  };
}

/**
 * STAND-IN for a GPU that runs out of memory: Dawn on SwiftShader allocates from the host's
 * overcommitted memory and does not fail at a size this shared test machine can afford, so the
 * fault cannot be produced for real here. Past `budget` bytes, `createBuffer` reports a
 * GPUOutOfMemoryError to the innermost 'out-of-memory' error scope, as the WebGPU spec has a real
 * device do; everything else is the real Dawn device.
 */
export function memoryBudget(budget: number): (device: GPUDevice) => GPUDevice {
  return (device) => {
    let used = 0;
    const scopes: { filter: GPUErrorFilter; error: { message: string } | null }[] = [];
    return forward(device, {
      pushErrorScope: (filter: GPUErrorFilter) => {
        device.pushErrorScope(filter);
        scopes.push({ filter, error: null });
      },
      popErrorScope: async () => {
        const scope = scopes.pop();
        const real = await device.popErrorScope();
        return scope?.error ?? real;
      },
      createBuffer: (descriptor: GPUBufferDescriptor) => {
        if (used + descriptor.size > budget) {
          const scope = scopes.findLast((s) => s.filter === 'out-of-memory');
          if (scope && !scope.error) scope.error = { message: `stand-in: ${descriptor.size} bytes past a budget of ${budget}` };
        } else used += descriptor.size;
        return device.createBuffer(descriptor);
      },
    });
  };
}

/**
 * STAND-IN for an adapter with smaller storage bindings than Dawn's 1 GiB (the spec's minimum is
 * 128 MiB; phones and older GPUs offer that): the device reports `bytes` as its
 * maxStorageBufferBindingSize and maxBufferSize, everything else is the real Dawn device. Only
 * for checks that read the limits before allocating (gpu-fit.ts); Dawn still enforces its own.
 */
export function bindingLimit(bytes: number): (device: GPUDevice) => GPUDevice {
  return (device) => {
    const limits = new Proxy(device.limits, {
      get: (t, name) => (name === 'maxStorageBufferBindingSize' || name === 'maxBufferSize' ? bytes : Reflect.get(t, name)),
    });
    return forward(device, { limits });
  };
}

/** `target` with `overrides` in front; every other member read from (and bound to) the real object. */
function forward<T extends object>(target: T, overrides: Record<string, unknown>): T {
  return new Proxy(target, {
    get(t, name) {
      if (typeof name === 'string' && name in overrides) return overrides[name];
      const value = Reflect.get(t, name) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(t) : value;
    },
  });
}
