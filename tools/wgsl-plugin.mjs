/**
 * Imports `.wgsl` files as their source text (`import src from './kernels/matvec.wgsl'`), the way
 * webgpu-samples does: kernels stay readable WGSL files with editor highlighting instead of
 * template strings. The same object works as a rollup and a vite (vitest) plugin, since both call
 * `transform(code, id)`.
 *
 * @returns {{ name: string, transform(code: string, id: string): { code: string, map: null } | null }}
 */
export function wgslPlugin() {
  return {
    name: 'gpt-chat-wgsl',
    transform(code, id) {
      // Vite may append a query (`?import`); the file name is what decides.
      if (!id.split('?')[0].endsWith('.wgsl')) return null;
      return { code: `export default ${JSON.stringify(code)};`, map: null };
    },
  };
}
