// out[t, :] (= or +=) table[idx[t] - row0, :] for the tokens whose row lies in this part of the
// table. The token embedding writes (ADD false), the learned positions then add (ADD true); a
// table split across several buffers is launched once per part, each writing only its rows.
// Prepended with weight-load.wgsl.

override ADD: bool = false;
override WG: u32; // from the KERNELS table (kernels.ts)

struct Params {
  T: u32,
  C: u32,
  row0: u32, // first table row held by this part
  rows: u32, // rows held by this part
  pos0: u32, // when idx is positions: idx[t] = pos0 + t, and `ids` is not read
  use_ids: u32,
}

@group(0) @binding(0) var<storage, read_write> out: array<f32>; // (T, C)
@group(0) @binding(1) var<storage, read> ids: array<i32>; // (T) token ids
@group(0) @binding(2) var<storage, read> w: array<vec2<u32>>; // (rows, C) of DTYPE
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let t = wid.y;
  var row: u32;
  if (p.use_ids != 0u) {
    row = u32(ids[t]);
  } else {
    row = p.pos0 + t;
  }
  // Rows before row0 wrap around to large values and fail this test too.
  if (row - p.row0 >= p.rows) {
    return;
  }
  let c = wid.x * WG + lid.x;
  if (c >= p.C) {
    return;
  }
  let value = weight1((row - p.row0) * p.C + c);
  if (ADD) {
    out[t * p.C + c] += value;
  } else {
    out[t * p.C + c] = value;
  }
}
