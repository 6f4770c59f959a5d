// out = 0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3))), GPT-2's tanh approximation.

override WG: u32; // from the KERNELS table (kernels.ts)

struct Params {
  n: u32, // T * F
}

@group(0) @binding(0) var<storage, read_write> out: array<f32>; // (T, F)
@group(0) @binding(1) var<storage, read> inp: array<f32>; // (T, F)
@group(0) @binding(2) var<uniform> p: Params;

const SQRT_2_OVER_PI: f32 = 0.7978845608028654;

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
  let x = inp[i];
  // Clamped: some drivers build tanh from exp and return NaN once exp overflows (|u| > ~44);
  // tanh(15) is already 1 in f32.
  let u = clamp(SQRT_2_OVER_PI * (x + 0.044715 * x * x * x), -15.0, 15.0);
  out[i] = 0.5 * x * (1.0 + tanh(u));
}
