/**
 * WGSL kernels live in `.wgsl` files and are imported as their source text. Each toolchain turns
 * them into `export default "<source>"`: `wgslPlugin()` (tools/wgsl-plugin.mjs) for rollup, vite
 * and vitest, an esbuild text loader for @web/test-runner.
 */
declare module '*.wgsl' {
  const source: string;
  export default source;
}
