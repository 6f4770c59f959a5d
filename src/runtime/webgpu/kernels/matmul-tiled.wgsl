// Prefill (T > 1): out[t, row0 + o] = dot(inp[t, :], w[o, :]) + bias[row0 + o] for the rows o of
// one part of the weight. Each workgroup computes a TILE x TILE block (tokens x outputs): SIDE x SIDE
// threads, each owning 4 x 4 outputs spaced SIDE apart, over K steps of 16 inputs staged in
// workgroup memory, so every weight read from memory is used by TILE tokens.
// Prepended with weight-load.wgsl.

override SIDE: u32; // threads per side of the workgroup: from the KERNELS table (kernels.ts)
override TILE: u32 = SIDE * 4u; // tokens and outputs per workgroup (4 per thread: a vec4)
const K4: u32 = 4u; // vec4 columns per K step (16 inputs)

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

var<workgroup> xs: array<vec4<f32>, TILE * K4>; // (TILE tokens, K4)
var<workgroup> ws: array<vec4<f32>, TILE * K4>; // (TILE outputs, K4)

@compute @workgroup_size(SIDE, SIDE)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let o0 = wid.x * TILE;
  let t0 = wid.y * TILE;
  let tid = lid.y * SIDE + lid.x;
  // acc[i][j]: token t0 + lid.y + SIDE i, output o0 + lid.x + SIDE j
  var acc: array<vec4<f32>, 4>;
  for (var k0 = 0u; k0 < p.I4; k0 += K4) {
    // The SIDE x SIDE threads stage 2 x TILE * K4 vec4s between them, zero past the edges.
    for (var e = tid; e < TILE * K4; e += SIDE * SIDE) {
      let rr = e / K4;
      let k = k0 + e % K4;
      var x = vec4<f32>(0.0);
      if (t0 + rr < p.T && k < p.I4) {
        x = inp[(t0 + rr) * p.I4 + k];
      }
      xs[e] = x;
      var wv = vec4<f32>(0.0);
      if (o0 + rr < p.rows && k < p.I4) {
        wv = weight4((o0 + rr) * p.I4 + k);
      }
      ws[e] = wv;
    }
    workgroupBarrier();
    for (var kk = 0u; kk < K4; kk++) {
      var wj: array<vec4<f32>, 4>;
      for (var j = 0u; j < 4u; j++) {
        wj[j] = ws[(lid.x + SIDE * j) * K4 + kk];
      }
      for (var i = 0u; i < 4u; i++) {
        let x = xs[(lid.y + SIDE * i) * K4 + kk];
        acc[i] += vec4<f32>(dot(x, wj[0]), dot(x, wj[1]), dot(x, wj[2]), dot(x, wj[3]));
      }
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < 4u; i++) {
    let t = t0 + lid.y + SIDE * i;
    for (var j = 0u; j < 4u; j++) {
      let o = o0 + lid.x + SIDE * j;
      if (t < p.T && o < p.rows) {
        var sum = acc[i][j];
        if (p.has_bias != 0u) {
          sum += bias[p.row0 + o];
        }
        out[t * p.O + p.row0 + o] = sum;
      }
    }
  }
}
