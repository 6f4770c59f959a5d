// out[t, f] = silu(gate) * up with gate = inp[t, f], up = inp[t, F + f]: the SwiGLU MLP.

override WG: u32; // from the KERNELS table (kernels.ts)

struct Params {
  T: u32,
  F: u32,
}

@group(0) @binding(0) var<storage, read_write> out: array<f32>; // (T, F)
@group(0) @binding(1) var<storage, read> inp: array<f32>; // (T, 2F) = [gate | up]
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_id) lid: vec3<u32>,
) {
  let i = (wid.y * nwg.x + wid.x) * WG + lid.x;
  if (i >= p.T * p.F) {
    return;
  }
  let t = i / p.F;
  let f = i % p.F;
  let gate = inp[t * 2u * p.F + f];
  let up = inp[t * 2u * p.F + p.F + f];
  // exp(-gate) overflows to inf for gate < -88 and the quotient is then -0: the right limit.
  out[i] = gate / (1.0 + exp(-gate)) * up;
}
