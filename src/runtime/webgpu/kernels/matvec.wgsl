// Decode (T = 1): out[0, row0 + o] = dot(inp[0, :], w[o, :]) + bias[row0 + o] for the rows o of
// one part of the weight. Each workgroup takes ROWS output rows and gives each row LANES threads
// that stride through it four elements at a time, then reduce in workgroup memory: weight reads
// are coalesced across the lanes and each vec2<u32> load brings four f16 / bf16 weights.
// With GATED 1 (SwiGLU's gated projection, the weight [gate | up] of 2F rows in one part), half
// the workgroup's row groups take gate rows and half the matching up rows, and the first half
// writes out[o] = silu(gate) * up: ROWS / 2 outputs a workgroup, no separate activation pass.
// Prepended with weight-load.wgsl.

// From the KERNELS table (kernels.ts): threads per row, and rows per workgroup.
override LANES: u32;
override ROWS: u32;
override GATED: u32 = 0u; // 1: SwiGLU, see above

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

var<workgroup> partial: array<f32, LANES * ROWS>;

@compute @workgroup_size(LANES, ROWS)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_id) lid: vec3<u32>,
) {
  let lane = lid.x;
  let r = lid.y;
  // Workgroups are laid out in two dimensions when one would pass 65535.
  let g = wid.y * nwg.x + wid.x;
  var o = g * ROWS + r; // the output row, and the weight row it reads
  var row = o;
  var live = o < p.rows;
  if (GATED == 1u) {
    let F = p.rows / 2u;
    let pairs = ROWS / 2u;
    o = g * pairs + r % pairs;
    row = select(o, F + o, r >= pairs);
    live = o < F;
  }
  var acc = 0.0;
  if (live) {
    for (var k = lane; k < p.I4; k += LANES) {
      acc += dot(inp[k], weight4(row * p.I4 + k));
    }
  }
  partial[r * LANES + lane] = acc;
  workgroupBarrier();
  for (var stride = LANES / 2u; stride > 0u; stride /= 2u) {
    if (lane < stride) {
      partial[r * LANES + lane] += partial[r * LANES + lane + stride];
    }
    workgroupBarrier();
  }
  if (GATED == 1u) {
    if (lane == 0u && live && r < ROWS / 2u) {
      let gate = partial[r * LANES];
      // exp(-gate) overflows to inf for gate < -88 and the quotient is then -0: the right limit.
      out[o] = gate / (1.0 + exp(-gate)) * partial[(r + ROWS / 2u) * LANES];
    }
    return;
  }
  if (lane == 0u && live) {
    var sum = partial[r * LANES];
    if (p.has_bias != 0u) {
      sum += bias[p.row0 + o];
    }
    out[p.row0 + o] = sum;
  }
}
