// Rotates the q and k heads of qkv in place, rotate-half layout: for pair i < D/2 of a head at
// position pos = pos0 + t,
//   x[i]       = x[i] cos - x[i + D/2] sin
//   x[i + D/2] = x[i + D/2] cos + x[i] sin
// cos and sin come from a table computed on the CPU in float64: on the GPU, cos(pos * freq) at
// positions in the thousands loses most of its digits to f32 range reduction.

override WG: u32; // from the KERNELS table (kernels.ts)

struct Params {
  T: u32,
  W: u32, // row width of qkv: (H + 2 Hkv) D
  heads: u32, // H + Hkv: the q heads, then the k heads, contiguous from column 0
  half: u32, // D / 2
  pos0: u32,
}

@group(0) @binding(0) var<storage, read_write> qkv: array<f32>; // (T, W)
@group(0) @binding(1) var<storage, read> table: array<vec2<f32>>; // (positions, D / 2) of (cos, sin)
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_id) lid: vec3<u32>,
) {
  let idx = (wid.y * nwg.x + wid.x) * WG + lid.x;
  if (idx >= p.T * p.heads * p.half) {
    return;
  }
  let i = idx % p.half;
  let head = (idx / p.half) % p.heads;
  let t = idx / (p.half * p.heads);
  let base = t * p.W + head * 2u * p.half;
  let cs = table[(p.pos0 + t) * p.half + i];
  let x1 = qkv[base + i];
  let x2 = qkv[base + i + p.half];
  qkv[base + i] = x1 * cs.x - x2 * cs.y;
  qkv[base + i + p.half] = x2 * cs.x + x1 * cs.y;
}
