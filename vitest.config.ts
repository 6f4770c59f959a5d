import { defineConfig } from 'vitest/config';
import { watPlugin } from './tools/wat-plugin.mjs';
import { wgslPlugin } from './tools/wgsl-plugin.mjs';

export default defineConfig({
  // Kernels are imported as WGSL source text (src/runtime/webgpu/kernels/*.wgsl) and as
  // WebAssembly assembled from WAT (src/runtime/cpu/kernels/*.wat).
  plugins: [wgslPlugin(), watPlugin()],
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    exclude: ['**/*.browser.test.ts', 'node_modules/**'],
    // Dawn on SwiftShader is CPU bound and this machine has 2 cores: one file at a time keeps
    // GPU tests from starving each other into timeouts.
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 120_000,
    env: { VK_ICD_FILENAMES: process.env.VK_ICD_FILENAMES ?? '/usr/lib/chromium/vk_swiftshader_icd.json' },
  },
});
