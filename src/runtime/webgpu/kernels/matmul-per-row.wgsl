// Prefill (T > 1) on CPU-backed adapters: out[t, row0 + o] = dot(inp[t, :], w[o, :]) + bias[row0 + o]
// for the rows o of one part of the weight. Each invocation computes a block of ROWS outputs x
// TOKENS tokens on its own, so every weight load serves TOKENS tokens and every input load ROWS
// outputs, with no workgroup memory and no barrier (see matvec-per-row.wgsl for why barriers are
// what software adapters cannot afford). Prepended with weight-load.wgsl.

override WG: u32; // from the KERNELS table (kernels.ts)
// Output rows and tokens per invocation: consts, not overrides, because the k loop below is
// unrolled for ROWS and WGSL sizes a function's arrays before overrides are known. Written with
// loops over override counts, prefill of T = 16 on the 32000 x 288 head took 1.2-1.4x as long on
// SwiftShader. KERNELS.matmulPerRow.perWorkgroup says the same (webgpu-ops.test.ts checks).
const ROWS: u32 = 4u;
const TOKENS: u32 = 4u;

struct Params {
  T: u32,
  I4: u32, // input width / 4
  rows: u32, // rows of this weight part
  row0: u32, // its first row = first output column written
  O: u32, // row stride of out
  has_bias: u32,
}

@group(0) @binding(0) var<storage, read_write> out: array<f32>; // (T, O)
@group(0) @binding(1) var<storage, read> inp: array<vec4<f32>>; // (T, I / 4)
@group(0) @binding(2) var<storage, read> w: array<vec2<u32>>; // (rows, I) of DTYPE
@group(0) @binding(3) var<storage, read> bias: array<f32>; // (O), unread unless has_bias
@group(0) @binding(4) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let o = (wid.x * WG + lid.x) * ROWS;
  let t0 = wid.y * TOKENS;
  if (o >= p.rows) {
    return;
  }
  // Rows and tokens past the end re-read the last one; their results are not written.
  var wb: array<u32, ROWS>; // first weight vec4 of each row
  for (var r = 0u; r < ROWS; r++) {
    wb[r] = min(o + r, p.rows - 1u) * p.I4;
  }
  var xb: array<u32, TOKENS>; // first input vec4 of each token
  for (var i = 0u; i < TOKENS; i++) {
    xb[i] = min(t0 + i, p.T - 1u) * p.I4;
  }
  var acc: array<array<vec4<f32>, ROWS>, TOKENS>; // (TOKENS, ROWS) four partial sums each
  for (var k = 0u; k < p.I4; k++) {
    let w0 = weight4(wb[0] + k);
    let w1 = weight4(wb[1] + k);
    let w2 = weight4(wb[2] + k);
    let w3 = weight4(wb[3] + k);
    for (var i = 0u; i < TOKENS; i++) {
      let x = inp[xb[i] + k];
      acc[i][0] += x * w0;
      acc[i][1] += x * w1;
      acc[i][2] += x * w2;
      acc[i][3] += x * w3;
    }
  }
  for (var i = 0u; i < TOKENS; i++) {
    let t = t0 + i;
    for (var r = 0u; r < ROWS; r++) {
      let row = o + r;
      if (t < p.T && row < p.rows) {
        var sum = dot(acc[i][r], vec4<f32>(1.0));
        if (p.has_bias != 0u) {
          sum += bias[p.row0 + row];
        }
        out[t * p.O + p.row0 + row] = sum;
      }
    }
  }
}
