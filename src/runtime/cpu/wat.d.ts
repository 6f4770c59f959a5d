/**
 * WebAssembly kernels live in `.wat` files (WebAssembly text) and are imported as their compiled
 * binary. `watPlugin()` (tools/wat-plugin.mjs) assembles them with wabt for rollup, vite/vitest and
 * @web/test-runner.
 */
declare module '*.wat' {
  const bytes: Uint8Array<ArrayBuffer>;
  export default bytes;
}
