// out[t, :] = inp[t, :] / sqrt(mean(inp[t, :]^2) + eps) * weight, one workgroup per row t.
// With ADD, inp[t, :] += res[t, :] is done first, in place: the residual add of the previous block
// fused into this norm (one dispatch instead of two, see forward.ts).
// Prepended with workgroup-reduce.wgsl.

override WG: u32; // from the KERNELS table (kernels.ts)
override ADD: bool = false; // inp += res first, in place (the residual add fused in); else inp is only read

struct Params {
  C: u32,
  eps: f32,
}

@group(0) @binding(0) var<storage, read_write> out: array<f32>; // (T, C)
@group(0) @binding(1) var<storage, read_write> inp: array<f32>; // (T, C) the residual stream
@group(0) @binding(2) var<storage, read> res: array<f32>; // (T, C) added to it when ADD
@group(0) @binding(3) var<storage, read> weight: array<f32>; // (C)
@group(0) @binding(4) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid3: vec3<u32>) {
  let lid = lid3.x;
  let row = wid.x * p.C;
  var sq = 0.0;
  for (var c = lid; c < p.C; c += WG) {
    var x = inp[row + c];
    if (ADD) {
      x += res[row + c];
      inp[row + c] = x; // read back below by this same thread only
    }
    sq += x * x;
  }
  let rstd = inverseSqrt(workgroup_sum(lid, sq) / f32(p.C) + p.eps);
  for (var c = lid; c < p.C; c += WG) {
    out[row + c] = inp[row + c] * rstd * weight[c];
  }
}
