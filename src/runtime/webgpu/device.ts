import { GptError } from '../../errors.ts';

// The public types name GPUDevice and GPU, so the emitted declarations must compile for a consumer
// without WebGPU types (TypeScript before 6 has none in lib.dom, and @webgpu/types is our
// devDependency). Empty interfaces merge with the full ones where they exist (lib.dom, @webgpu/types)
// and stand as opaque names where they do not. Type aliases would clash, hence none here.
declare global {
  interface GPU {}
  interface GPUDevice {}
}

/** A WebGPU device ready for the runtime, and what we learned about it while acquiring it. */
export interface GpuDevice {
  readonly device: GPUDevice;
  /** Vendor / architecture / description as the adapter reports them, for logs and bug reports. */
  readonly info: string;
  /** The device has 'shader-f16' enabled (we requested it because the adapter offered it). */
  readonly hasF16: boolean;
  /** The device has 'subgroups' enabled (requested whenever the adapter offers it). */
  readonly hasSubgroups: boolean;
  /** A software adapter (SwiftShader, WARP): correct but slow. Reported, never refused. */
  readonly isFallback: boolean;
}

export interface AcquireDeviceOptions {
  /** Prefer the discrete GPU on laptops with two. */
  readonly powerPreference?: 'low-power' | 'high-performance';
  /**
   * The `GPU` entry point. Defaults to `navigator.gpu` in a browser or worker, and to the `webgpu`
   * npm package (Dawn) in Node. Tests pass their own.
   */
  readonly gpu?: GPU;
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
 * 'shader-f16' when the adapter has it. Throws GptError 'no-webgpu' when WebGPU is unavailable.
 */
export async function acquireDevice(options: AcquireDeviceOptions = {}): Promise<GpuDevice> {
  const gpu = options.gpu ?? (await defaultGpu());
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
  const hasF16 = adapter.features.has('shader-f16');
  const hasSubgroups = adapter.features.has('subgroups');
  const requiredFeatures: GPUFeatureName[] = [];
  if (hasF16) requiredFeatures.push('shader-f16');
  if (hasSubgroups) requiredFeatures.push('subgroups' as GPUFeatureName);
  let device: GPUDevice;
  try {
    device = await adapter.requestDevice({ requiredLimits, requiredFeatures });
  } catch (err) {
    throw new GptError(
      'no-webgpu',
      `The GPU adapter refused a device (${err instanceof Error ? err.message : String(err)}). ` +
        'Hint: close other tabs using the GPU and reload; the CPU engine still works.',
    );
  }
  const info = adapter.info;
  // `isFallbackAdapter` moved from the adapter to its info in the spec; read both.
  const isFallback = Boolean(
    (info as { isFallbackAdapter?: boolean } | undefined)?.isFallbackAdapter ??
      (adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter,
  ) || isCpuAdapterInfo(info);
  const text = info ? [info.vendor, info.architecture, info.description].filter(Boolean).join(' / ') : '';
  return { device, info: text || 'unknown adapter', hasF16, hasSubgroups, isFallback };
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

// One Dawn instance per process: each `create()` starts an instance with its own threads, and
// tearing several down at exit aborts the process (seen with dawn.node 0.6: std::system_error).
let nodeGpu: Promise<GPU> | null = null;

function defaultGpu(): Promise<GPU> {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav?.gpu) return Promise.resolve(nav.gpu);
  nodeGpu ??= createNodeGpu();
  nodeGpu.catch(() => (nodeGpu = null));
  return nodeGpu;
}

async function createNodeGpu(): Promise<GPU> {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav?.gpu) return nav.gpu;
  const isNode = typeof process !== 'undefined' && typeof process.versions?.node === 'string';
  if (!isNode) {
    throw new GptError(
      'no-webgpu',
      'This browser has no WebGPU (navigator.gpu is missing). Hint: use a recent Chrome or Edge, ' +
        'Safari 26+, or Firefox 141+ on Windows; the CPU engine works everywhere.',
    );
  }
  // A variable specifier keeps bundlers from pulling Dawn into the browser build.
  const specifier = 'webgpu';
  try {
    const dawn = (await import(/* @vite-ignore */ specifier)) as { create(flags: string[]): GPU; globals: object };
    // Dawn does not define GPUBufferUsage & co. on globalThis, and our code uses them.
    Object.assign(globalThis, dawn.globals);
    await chooseVulkanDriver();
    return dawn.create([]);
  } catch (err) {
    throw new GptError(
      'no-webgpu',
      `WebGPU for Node could not be loaded (${err instanceof Error ? err.message : String(err)}). ` +
        'Hint: `npm install webgpu`, or use the CPU backend.',
    );
  }
}

const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

/**
 * Points the Vulkan loader at a driver Dawn can use when the user has not chosen one
 * (VK_ICD_FILENAMES). Left alone, the loader also enumerates Mesa's drivers for hardware that is
 * not there, and Dawn then finds no adapter at all (seen on Debian with mesa-vulkan-drivers
 * installed and no GPU). An NVIDIA driver wins; otherwise Chromium's SwiftShader, when present.
 */
async function chooseVulkanDriver(): Promise<void> {
  if (process.env['VK_ICD_FILENAMES'] || process.env['VK_DRIVER_FILES']) return;
  const fsName = 'node:fs';
  const { existsSync, readdirSync } = (await import(/* @vite-ignore */ fsName)) as typeof import('node:fs');
  const dirs = ['/etc/vulkan/icd.d', '/usr/share/vulkan/icd.d', '/usr/local/share/vulkan/icd.d'];
  const hasNvidia = dirs.some((d) => existsSync(d) && readdirSync(d).some((f) => f.toLowerCase().includes('nvidia')));
  if (!hasNvidia && existsSync(SWIFTSHADER_ICD)) process.env['VK_ICD_FILENAMES'] = SWIFTSHADER_ICD;
}
