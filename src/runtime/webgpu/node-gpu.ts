import { existsSync, readdirSync } from 'node:fs';
import { GptError } from '../../errors.ts';

// WebGPU in Node: Dawn from the `webgpu` npm package, and the Vulkan driver it should use. Node
// only: imported by the Node entry (src/node.ts), the CLI and tests, never by the browser bundles
// (test/build/bundles.test.ts checks), where navigator.gpu is the GPU (device.ts).

// One Dawn instance per process: each `create()` starts an instance with its own threads, and
// tearing several down at exit aborts the process (seen with dawn.node 0.6: std::system_error).
let dawnGpu: Promise<GPU> | null = null;

/**
 * The `GPU` of the `webgpu` npm package (Dawn), created on first call and shared by every later
 * one; pass it as `AcquireDeviceOptions.gpu`. Throws GptError 'no-webgpu' when the package or a
 * Vulkan driver is missing.
 */
export function nodeGpu(): Promise<GPU> {
  dawnGpu ??= createDawnGpu();
  dawnGpu.catch(() => (dawnGpu = null));
  return dawnGpu;
}

async function createDawnGpu(): Promise<GPU> {
  // A variable specifier keeps bundlers from trying to resolve the native package at build time.
  const specifier = 'webgpu';
  try {
    const dawn = (await import(/* @vite-ignore */ specifier)) as { create(flags: string[]): GPU; globals: object };
    // Dawn does not define GPUBufferUsage & co. on globalThis, and our code uses them.
    Object.assign(globalThis, dawn.globals);
    chooseVulkanDriver();
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
function chooseVulkanDriver(): void {
  if (process.env['VK_ICD_FILENAMES'] || process.env['VK_DRIVER_FILES']) return;
  const dirs = ['/etc/vulkan/icd.d', '/usr/share/vulkan/icd.d', '/usr/local/share/vulkan/icd.d'];
  const hasNvidia = dirs.some((d) => existsSync(d) && readdirSync(d).some((f) => f.toLowerCase().includes('nvidia')));
  if (!hasNvidia && existsSync(SWIFTSHADER_ICD)) process.env['VK_ICD_FILENAMES'] = SWIFTSHADER_ICD;
}
