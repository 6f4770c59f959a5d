// out += inp elementwise: the residual stream.

override WG: u32; // from the KERNELS table (kernels.ts)

struct Params {
  n: u32, // T * C
}

@group(0) @binding(0) var<storage, read_write> out: array<f32>; // (T, C)
@group(0) @binding(1) var<storage, read> inp: array<f32>; // (T, C)
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_id) lid: vec3<u32>,
) {
  let i = (wid.y * nwg.x + wid.x) * WG + lid.x;
  if (i >= p.n) {
    return;
  }
  out[i] += inp[i];
}
