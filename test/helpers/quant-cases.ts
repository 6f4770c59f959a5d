// Shared by the quantization tests (reference, CPU kernels, WebGPU kernels): seeded data.

/** n seeded N(0, 1) floats (Box-Muller over a 32-bit LCG), as float32. */
export function gaussian(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const uniform = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) + 1) / 2 ** 32 - 1e-12;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const r = Math.sqrt(-2 * Math.log(uniform()));
    const a = 2 * Math.PI * uniform();
    out[i] = r * Math.cos(a);
    if (i + 1 < n) out[i + 1] = r * Math.sin(a);
  }
  return out;
}
