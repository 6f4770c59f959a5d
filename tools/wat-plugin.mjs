import wabtInit from 'wabt';

/**
 * Imports `.wat` files (WebAssembly text) as their compiled binary, a Uint8Array
 * (`import matmulWasm from './kernels/matmul.wat'`): kernels stay readable, commented text in the
 * repository and are assembled with wabt at build time, since there is no wasm32 compiler
 * toolchain here. The bytes ship as base64 (a third smaller than a number array; decoded once with
 * atob, no eval). The same object works as a rollup and a vite (vitest) plugin, since both call
 * `transform(code, id)`; @web/test-runner uses it through `fromRollup`.
 *
 * Parse or validation errors fail the build with wabt's message, which names the file, line and
 * column.
 *
 * @returns {{ name: string, transform(code: string, id: string): Promise<{ code: string, map: null } | null> }}
 */
export function watPlugin() {
  /** @type {Promise<Awaited<ReturnType<typeof wabtInit>>> | null} */
  let wabt = null;
  return {
    name: 'gpt-chat-wat',
    async transform(code, id) {
      // Vite may append a query (`?import`); the file name is what decides.
      const file = id.split('?')[0];
      if (!file.endsWith('.wat')) return null;
      wabt ??= wabtInit();
      const bytes = watToWasm(await wabt, file, code);
      const base64 = Buffer.from(bytes).toString('base64');
      return {
        code: `export default /* @__PURE__ */ Uint8Array.from(atob(${JSON.stringify(base64)}), (c) => c.charCodeAt(0));`,
        map: null,
      };
    },
  };
}

/**
 * Assembles WebAssembly text to a validated binary module. SIMD is the feature the kernels need;
 * relaxed SIMD is on only in files named `*-relaxed.wat` (kernels that run where the engine
 * validates them, beside a plain-SIMD fallback); the other post-MVP features stay off so a kernel
 * cannot use one by accident.
 *
 * @param {Awaited<ReturnType<typeof wabtInit>>} wabt
 * @param {string} file
 * @param {string} source
 * @returns {Uint8Array}
 */
export function watToWasm(wabt, file, source) {
  const features = { simd: true, relaxed_simd: /-relaxed\.wat$/.test(file) };
  let mod;
  try {
    mod = wabt.parseWat(file, source, features);
  } catch (err) {
    throw new Error(`wat-plugin: ${file} does not assemble: ${err instanceof Error ? err.message : String(err)}`);
  }
  try {
    mod.resolveNames();
    mod.validate();
    return mod.toBinary({ log: false, write_debug_names: true }).buffer;
  } catch (err) {
    throw new Error(`wat-plugin: ${file} is not a valid module: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    mod.destroy();
  }
}
