import { defineConfig } from 'vitest/config';
import { watPlugin } from './tools/wat-plugin.mjs';
import { wgslPlugin } from './tools/wgsl-plugin.mjs';

export default defineConfig({
  // Kernels are imported as WGSL source text (src/runtime/webgpu/kernels/*.wgsl) and as
  // WebAssembly assembled from WAT (src/runtime/cpu/kernels/*.wat).
  plugins: [wgslPlugin(), watPlugin()],
  test: {
    // Dawn on SwiftShader is CPU bound and this machine has 2 cores: one file at a time keeps
    // GPU tests from starving each other into timeouts.
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 120_000,
    env: { VK_ICD_FILENAMES: process.env.VK_ICD_FILENAMES ?? '/usr/lib/chromium/vk_swiftshader_icd.json' },
    projects: [
      { extends: true, test: { name: 'node', include: ['test/**/*.test.ts', 'src/**/*.test.ts'], exclude: ['**/*.browser.test.ts', '**/*.relaxed.test.ts', 'node_modules/**'] } },
      // Node 20 has WebAssembly relaxed SIMD only behind a flag (Chromium has it on by default):
      // the relaxed-SIMD kernels' tests run in workers started with it
      { extends: true, test: { name: 'relaxed-simd', include: ['test/**/*.relaxed.test.ts'], execArgv: ['--experimental-wasm-relaxed-simd'] } },
    ],
  },
});
