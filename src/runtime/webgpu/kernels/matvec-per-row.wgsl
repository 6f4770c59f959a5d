// Decode (T = 1) on CPU-backed adapters: out[0, row0 + o] = dot(inp[0, :], w[o, :]) + bias[row0 + o]
// for the rows o of one part of the weight, each invocation computing ROWS whole output rows
// on its own, four inputs at a time. No workgroup memory and no barrier: software adapters
// (SwiftShader) run the invocations of a workgroup as coroutines and switch at every barrier,
// which made the cooperative matvec.wgsl 30x slower there (the 32000 x 288 f32 head: 8 s vs
// 0.28 s). ROWS rows share each input load and give the loop more work per iteration, which
// SwiftShader's per-iteration cost rewards (4 rows: another 2x over 1, measured on that head).
// Tried on that head and not kept, since none clearly beat this kernel (40-55 ms per dispatch
// on a shared 2-core machine, +-20% noise): 8 rows per invocation (no gain, end to end), the
// weight as array<vec4<f32>> (45-51 ms), as an rgba32float / rgba16float texture read with
// textureLoad (40 / 45 ms), transposed (I, O) so that neighbouring lanes read neighbouring
// floats (65-113 ms), the k loop unrolled by two, four named accumulators instead of the array,
// and 16-invocation workgroups. f16 weights (half the loads) decode no faster than f32, so the
// loads are not the only cost.
// With GATED 1 (SwiGLU's gated projection, the weight [gate | up] of 2F rows in one part), the
// four rows an invocation reads are gate rows o, o + 1 and up rows F + o, F + o + 1, and it writes
// out[o + r] = silu(gate) * up: two outputs, no separate activation pass.
// Prepended with weight-load.wgsl.

override WG: u32; // from the KERNELS table (kernels.ts)
override GATED: u32 = 0u; // 1: SwiGLU, see above
// Output rows per invocation: a const, not an override, because the loop below is unrolled for
// it. Written as a loop over an override ROWS (accumulators sized for up to 8), this kernel took
// 2.5-3x as long on the 32000 x 288 head on SwiftShader. KERNELS.matvecPerRow.perWorkgroup says
// the same 4 (test/runtime/webgpu/webgpu-ops.test.ts checks that they agree).
const ROWS: u32 = 4u;

struct Params {
  I4: u32, // input width / 4
  rows: u32, // rows of this weight part
  row0: u32, // its first row = first output column written
  has_bias: u32,
}

@group(0) @binding(0) var<storage, read_write> out: array<f32>; // (1, O)
@group(0) @binding(1) var<storage, read> inp: array<vec4<f32>>; // (1, I / 4)
@group(0) @binding(2) var<storage, read> w: array<vec2<u32>>; // (rows, I) of DTYPE
@group(0) @binding(3) var<storage, read> bias: array<f32>; // (O), unread unless has_bias
@group(0) @binding(4) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_id) lid: vec3<u32>,
) {
  // Workgroups are laid out in two dimensions when one would pass 65535.
  let g = (wid.y * nwg.x + wid.x) * WG + lid.x;
  let outputs = select(p.rows, p.rows / 2u, GATED == 1u);
  let o = select(g * ROWS, g * 2u, GATED == 1u);
  if (o >= outputs) {
    return;
  }
  // The four rows read. Past the last row, re-read the last row (the results are not written):
  // no branch in the loop.
  var b0: u32;
  var b1: u32;
  var b2: u32;
  var b3: u32;
  if (GATED == 1u) {
    let o1 = min(o + 1u, outputs - 1u);
    b0 = o * p.I4;
    b1 = o1 * p.I4;
    b2 = (outputs + o) * p.I4;
    b3 = (outputs + o1) * p.I4;
  } else {
    let last = p.rows - 1u;
    b0 = o * p.I4;
    b1 = min(o + 1u, last) * p.I4;
    b2 = min(o + 2u, last) * p.I4;
    b3 = min(o + 3u, last) * p.I4;
  }
  var acc: array<vec4<f32>, ROWS>; // (ROWS) four partial sums per row, added up at the end
  for (var k = 0u; k < p.I4; k++) {
    let x = inp[k];
    acc[0] += x * weight4(b0 + k);
    acc[1] += x * weight4(b1 + k);
    acc[2] += x * weight4(b2 + k);
    acc[3] += x * weight4(b3 + k);
  }
  if (GATED == 1u) {
    for (var r = 0u; r < 2u; r++) {
      if (o + r < outputs) {
        let gate = dot(acc[r], vec4<f32>(1.0));
        // exp(-gate) overflows to inf for gate < -88 and the quotient is then -0: the right limit.
        out[o + r] = gate / (1.0 + exp(-gate)) * dot(acc[r + 2u], vec4<f32>(1.0));
      }
    }
    return;
  }
  for (var r = 0u; r < ROWS; r++) {
    let row = o + r;
    if (row < p.rows) {
      var sum = dot(acc[r], vec4<f32>(1.0));
      if (p.has_bias != 0u) {
        sum += bias[p.row0 + row];
      }
      out[p.row0 + row] = sum;
    }
  }
}
