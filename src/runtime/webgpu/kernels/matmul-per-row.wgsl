// Prefill (T > 1) on CPU-backed adapters: out[t, row0 + o] = dot(inp[t, :], w[o, :]) + bias[row0 + o]
// for the rows o of one part of the weight. Each invocation computes a block of ROWS outputs x
// TOKENS tokens on its own, so every weight load serves TOKENS tokens and every input load ROWS
// outputs, with no workgroup memory and no barrier (see matvec-per-row.wgsl for why barriers are
// what software adapters cannot afford). Prepended with weight-load.wgsl.

// From the KERNELS table (kernels.ts).
override WG: u32;
override ROWS: u32; // output rows per invocation, at most MAX_ROWS
override TOKENS: u32; // tokens per invocation, at most MAX_TOKENS
// WGSL sizes a function's arrays before the overrides are known.
const MAX_ROWS: u32 = 8u;
const MAX_TOKENS: u32 = 8u;

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
  var wb: array<u32, MAX_ROWS>; // (ROWS) first weight vec4 of each row
  for (var r = 0u; r < ROWS; r++) {
    wb[r] = min(o + r, p.rows - 1u) * p.I4;
  }
  var xb: array<u32, MAX_TOKENS>; // (TOKENS) first input vec4 of each token
  for (var i = 0u; i < TOKENS; i++) {
    xb[i] = min(t0 + i, p.T - 1u) * p.I4;
  }
  var acc: array<array<vec4<f32>, MAX_ROWS>, MAX_TOKENS>; // (TOKENS, ROWS) four partial sums each
  for (var k = 0u; k < p.I4; k++) {
    var wk: array<vec4<f32>, MAX_ROWS>; // (ROWS) this step's weights, each used by TOKENS tokens
    for (var r = 0u; r < ROWS; r++) {
      wk[r] = weight4(wb[r] + k);
    }
    for (var i = 0u; i < TOKENS; i++) {
      let x = inp[xb[i] + k];
      for (var r = 0u; r < ROWS; r++) {
        acc[i][r] += x * wk[r];
      }
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
