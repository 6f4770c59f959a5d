// out[t, :] = (inp[t, :] - mean) / sqrt(var + eps) * weight + bias, one invocation per row t: the
// variant of layer-norm.wgsl for CPU-backed adapters (no barriers, see matvec-per-row.wgsl). Two
// passes over the row, mean then variance around it, as layer-norm.wgsl and PyTorch.
// With ADD, inp[t, :] += res[t, :] is done first, in place: the residual add of the previous block
// fused into this norm (one dispatch instead of two, see forward.ts).

override WG: u32; // from the KERNELS table (kernels.ts)
override ADD: bool = false; // inp += res first, in place (the residual add fused in); else inp is only read

struct Params {
  T: u32,
  C: u32,
  eps: f32,
}

@group(0) @binding(0) var<storage, read_write> out: array<f32>; // (T, C)
@group(0) @binding(1) var<storage, read_write> inp: array<f32>; // (T, C) the residual stream
@group(0) @binding(2) var<storage, read> res: array<f32>; // (T, C) added to it when ADD
@group(0) @binding(3) var<storage, read> weight: array<f32>; // (C)
@group(0) @binding(4) var<storage, read> bias: array<f32>; // (C)
@group(0) @binding(5) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let t = gid.x;
  if (t >= p.T) {
    return;
  }
  let row = t * p.C;
  var sum = 0.0;
  for (var c = 0u; c < p.C; c++) {
    var x = inp[row + c];
    if (ADD) {
      x += res[row + c];
      inp[row + c] = x;
    }
    sum += x;
  }
  let mean = sum / f32(p.C);
  var sq = 0.0;
  for (var c = 0u; c < p.C; c++) {
    let d = inp[row + c] - mean;
    sq += d * d;
  }
  let rstd = inverseSqrt(sq / f32(p.C) + p.eps);
  for (var c = 0u; c < p.C; c++) {
    out[row + c] = (inp[row + c] - mean) * rstd * weight[c] + bias[c];
  }
}
