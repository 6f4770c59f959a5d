import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkedBackend } from '../../../src/runtime/checked-backend.ts';
import { acquireDevice } from '../../../src/runtime/webgpu/device.ts';
import { nodeGpu } from '../../../src/runtime/webgpu/node-gpu.ts';
import { WebGpuBackend, type KernelStyle } from '../../../src/runtime/webgpu/webgpu-backend.ts';
import { dequantizeMatrix } from '../../../src/runtime/quant/dequantize.ts';
import { QUANT_DTYPES } from '../../../src/runtime/quant/quant-dtype.ts';
import { quantizeMatrix } from '../../../src/runtime/quant/quantize.ts';
import { BLOCK, gaussian, magnitudes, quantCase, quantShapes, runQuantMatmul } from '../../helpers/quant-cases.ts';

// Quantized weights on WebGPU (Dawn; SwiftShader here): the weight-reading kernels (matvec and
// matmul in both kernel styles, embed) with each type's reader (kernels/quant-*.wgsl) against the
// CPU's dequantize-then-f32 (QuantCase.ref, float64 sums). The GPU multiplies f32 weights and
// f32 activations, so the only difference is f32 rounding: within 1e-5 of sum |w x| (+1e-6).

let device: GPUDevice;
const backends: WebGpuBackend[] = [];

beforeAll(async () => {
  device = await acquireDevice({ gpu: nodeGpu });
});

afterAll(() => {
  for (const b of backends) b.destroy();
  device?.destroy();
});

/** The kernel variants under test: both styles, and the cooperative one with subgroup reductions. */
const VARIANTS = [
  { name: 'serial', kernels: 'serial', subgroups: false },
  { name: 'cooperative', kernels: 'cooperative', subgroups: false },
  { name: 'cooperative with subgroups', kernels: 'cooperative', subgroups: true },
] as const;

function gpu(variant: { kernels: KernelStyle; subgroups: boolean }, maxBindingBytes?: number) {
  // Dawn's SwiftShader here offers subgroups (webgpu-ops.test.ts checks the variant is really run)
  const subgroups = variant.subgroups && device.features.has('subgroups');
  const b = new WebGpuBackend(device, { kernels: variant.kernels, subgroups, maxBindingBytes });
  backends.push(b);
  return checkedBackend(b);
}

describe('WebGPU with quantized weights', () => {
  // (every kernel compiling for every weight type is checked by webgpu-ops.test.ts's compileErrors)

  for (const style of VARIANTS) {
    describe(`${style.name} kernels`, () => {
      for (const dtype of QUANT_DTYPES) {
        // T 1 runs the matvec kernel, T > 1 the matmul one
        for (const [T, I, O] of quantShapes(dtype)) {
          it(`${dtype} ${T === 1 ? 'matvec' : 'matmul'} T ${T}, I ${I}, O ${O} against dequantize-then-f32`, async () => {
            const c = quantCase(dtype, T, I, O, 7 * T + I + O, O % 2 === 1);
            const got = await runQuantMatmul(gpu(style), dtype, c, T, I, O);
            const scale = magnitudes(dtype, c.w, c.x, c.bias, T, I, O);
            for (let k = 0; k < T * O; k++) expect(Math.abs(got[k] - c.ref[k]), `output ${k}`).toBeLessThanOrEqual(1e-5 * scale[k] + 1e-6);
          });
        }

        it(`${dtype} swiglu decode (one gated matvec) against dequantize-then-f32`, async () => {
          const [I, F] = [2 * BLOCK[dtype], 19];
          const c = quantCase(dtype, 1, I, 2 * F, 31, false); // ref = [gate | up]
          const b = gpu(style);
          const w = b.createWeight('mlp.gate_up', 2 * F, I, dtype);
          b.writeWeight(w, 0, c.w);
          const values = b.createWeight('x', 1, I, 'f32');
          b.writeWeight(values, 0, new Uint8Array(c.x.buffer, c.x.byteOffset, c.x.byteLength));
          const inp = b.createActivation(1, I);
          b.embed(inp, Int32Array.of(0), 1, values, null, 0);
          const out = b.createActivation(1, F);
          b.swiglu(out, inp, w, b.createActivation(1, 2 * F), 1);
          const got = new Float32Array(F);
          await b.read(out, 1, got);
          const scale = magnitudes(dtype, c.w, c.x, null, 1, I, 2 * F);
          for (let f = 0; f < F; f++) {
            const [gate, up] = [c.ref[f], c.ref[F + f]];
            const want = (gate / (1 + Math.exp(-gate))) * up;
            // a gate error e moves the output by at most about |up| e (silu' <= 1.1), an up error by |silu(gate)| e
            const tol = 1.1 * Math.abs(up) * (1e-5 * scale[f] + 1e-6) + Math.abs(want / (up || 1)) * (1e-5 * scale[F + f] + 1e-6) + 1e-6;
            expect(Math.abs(got[f] - want), `output ${f}`).toBeLessThanOrEqual(tol);
          }
        });

        it(`${dtype} weight split across buffers by rows (a small binding limit)`, async () => {
          const [T, I, O] = [2, 2 * BLOCK[dtype], 37];
          const c = quantCase(dtype, T, I, O, 99, true);
          // room for 5 to 10 quantized rows per buffer, so 4 to 8 parts, the last one short (and
          // for a whole f32 row of the inputs, which go in through a table of the same backend)
          const got = await runQuantMatmul(gpu(style, 5 * (c.w.length / O) + 4 * I), dtype, c, T, I, O);
          const scale = magnitudes(dtype, c.w, c.x, c.bias, T, I, O);
          for (let k = 0; k < T * O; k++) expect(Math.abs(got[k] - c.ref[k])).toBeLessThanOrEqual(1e-5 * scale[k] + 1e-6);
        });
      }
    });
  }

  for (const dtype of QUANT_DTYPES) {
    it(`${dtype} embed dequantizes the rows asked for as the CPU does`, async () => {
      const V = 11;
      const C = 2 * BLOCK[dtype];
      const table = quantizeMatrix(dtype, gaussian(V * C, 5), V, C);
      const rows = dequantizeMatrix(dtype, table, V, C);
      const b = gpu(VARIANTS[0]);
      const w = b.createWeight('tokEmb', V, C, dtype);
      b.writeWeight(w, 0, table);
      const out = b.createActivation(3, C);
      b.embed(out, Int32Array.of(10, 0, 6), 3, w, null, 0);
      const got = new Float32Array(3 * C);
      await b.read(out, 3, got);
      const want = [...rows.subarray(10 * C, 11 * C), ...rows.subarray(0, C), ...rows.subarray(6 * C, 7 * C)];
      // d sc q - dmin m: the GPU may fuse the multiply and subtract, so allow an f32 rounding
      for (let i = 0; i < 3 * C; i++) expect(Math.abs(got[i] - want[i])).toBeLessThanOrEqual(1e-6 * Math.abs(want[i]) + 1e-7);
    });
  }
});
