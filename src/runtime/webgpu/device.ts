import { GptError } from '../../errors.ts';
import type { GpuBindingLimits } from './gpu-fit.ts';

// The public types name GPUDevice and GPU, so the emitted declarations must compile for a consumer
// without WebGPU types (TypeScript before 6 has none in lib.dom, and @webgpu/types is our
// devDependency). Empty interfaces merge with the full ones where they exist (lib.dom, @webgpu/types)
// and stand as opaque names where they do not. Type aliases would clash, hence none here.
declare global {
  interface GPU {}
  interface GPUDevice {}
}

/** How {@link acquireDevice} gets its device. */
export interface AcquireDeviceOptions {
  /** Prefer the discrete GPU on laptops with two. */
  readonly powerPreference?: 'low-power' | 'high-performance';
  /**
   * The `GPU` entry point, or a function that loads one. Defaults to `navigator.gpu` (a browser
   * or worker). The Node entry (`gpt-chat/node`) passes `nodeGpu` (webgpu/node-gpu.ts: Dawn);
   * tests pass their own.
   */
  readonly gpu?: GPU | (() => Promise<GPU>);
}

// Limits we raise from the spec defaults to what the adapter offers: the defaults (128 MiB per
// storage binding, 256 MiB per buffer) are far below what large vocabularies and KV caches need,
// and a device only gets more than the defaults when it asks.
const RAISED_LIMITS = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxStorageBuffersPerShaderStage',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupsPerDimension',
] as const;

/**
 * Acquires an adapter and a device with the adapter's own limits (see RAISED_LIMITS) and with
 * 'shader-f16' and 'subgroups' where the adapter has them. Throws GptError 'no-webgpu' when WebGPU is unavailable.
 */
export async function acquireDevice(options: AcquireDeviceOptions = {}): Promise<GPUDevice> {
  const gpu = typeof options.gpu === 'function' ? await options.gpu() : (options.gpu ?? browserGpu());
  const adapter = await gpu.requestAdapter({ powerPreference: options.powerPreference ?? 'high-performance' });
  if (!adapter) {
    throw new GptError(
      'no-webgpu',
      'WebGPU is present but no GPU adapter was found. Hint: update the browser or the GPU driver, ' +
        'or check chrome://gpu; the CPU engine still works without a GPU.',
    );
  }
  const requiredLimits: Record<string, number> = {};
  for (const name of RAISED_LIMITS) {
    const value = adapter.limits[name];
    if (typeof value === 'number') requiredLimits[name] = value;
  }
  // Kernels compute in f32 (see ARCHITECTURE.md); shader-f16 is asked for so that a later f16
  // path finds it. 'subgroups' lets the decode matvec reduce rows without workgroup barriers.
  const requiredFeatures = (['shader-f16', 'subgroups'] as GPUFeatureName[]).filter((f) => adapter.features.has(f));
  try {
    return await adapter.requestDevice({ requiredLimits, requiredFeatures });
  } catch (err) {
    throw new GptError(
      'no-webgpu',
      `The GPU adapter refused a device (${err instanceof Error ? err.message : String(err)}). ` +
        'Hint: close other tabs using the GPU and reload; the CPU engine still works.',
    );
  }
}

/**
 * The binding limits a device from {@link acquireDevice} would get (the adapter's own: see
 * RAISED_LIMITS), read from the adapter without creating a device; null where there is no WebGPU
 * or no adapter. For checks before a download (gpu-fit.ts).
 */
export async function adapterLimits(options: AcquireDeviceOptions = {}): Promise<GpuBindingLimits | null> {
  try {
    const gpu = typeof options.gpu === 'function' ? await options.gpu() : (options.gpu ?? browserGpu());
    const adapter = await gpu.requestAdapter({ powerPreference: options.powerPreference ?? 'high-performance' });
    if (!adapter) return null;
    return { maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize, maxBufferSize: adapter.limits.maxBufferSize };
  } catch {
    return null; // no WebGPU: nothing to check, the load itself says so
  }
}

// Vulkan / D3D drivers that run on the CPU. Browsers flag SwiftShader and WARP as fallback
// adapters, but a Vulkan loader pointed at llvmpipe or lavapipe offers them as ordinary ones.
const CPU_DRIVERS = /swiftshader|llvmpipe|lavapipe|softpipe|warp|microsoft basic render/i;

function isCpuAdapterInfo(info: GPUAdapterInfo | undefined): boolean {
  if (!info) return false;
  return CPU_DRIVERS.test([info.vendor, info.architecture, info.device, info.description].join(' '));
}

/**
 * True when `device` runs on the CPU (SwiftShader, llvmpipe, WARP): read from the device's
 * adapter info where the implementation exposes it (Dawn, Chrome 131+), false when unknown.
 * The WebGPU backend picks its kernel style from this (see KernelStyle).
 */
export function isCpuBackedDevice(device: GPUDevice): boolean {
  const info = device.adapterInfo as GPUAdapterInfo | undefined; // missing before Chrome 131
  return Boolean(info?.isFallbackAdapter) || isCpuAdapterInfo(info);
}

function browserGpu(): GPU {
  const gpu = (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
  if (gpu) return gpu;
  throw new GptError(
    'no-webgpu',
    'WebGPU is not available here (navigator.gpu is missing). Hint: use a recent Chrome or Edge, ' +
      "Safari 26+, or Firefox 141+ on Windows; in Node, load through 'gpt-chat/node', which brings Dawn. " +
      'The CPU engine works everywhere.',
  );
}

/** A key for "this adapter" (vendor, architecture, device, description), for per-device caches. */
export function adapterKey(device: GPUDevice): string {
  const info = device.adapterInfo as GPUAdapterInfo | undefined;
  if (!info) return 'unknown adapter';
  return [info.vendor, info.architecture, info.device, info.description].join('/');
}
