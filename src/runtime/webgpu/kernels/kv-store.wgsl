// Copies k and v of qkv rows t < T into the cache of one layer at positions pos0 + t.

override WG: u32; // from the KERNELS table (kernels.ts)

struct Params {
  T: u32,
  W: u32, // row width of qkv: (H + 2 Hkv) D
  k_col: u32, // first k column of qkv: H D (v follows at k_col + width)
  width: u32, // Hkv D
  pos0: u32,
}

@group(0) @binding(0) var<storage, read_write> k_cache: array<f32>; // (S, Hkv D)
@group(0) @binding(1) var<storage, read_write> v_cache: array<f32>; // (S, Hkv D)
@group(0) @binding(2) var<storage, read> qkv: array<f32>; // (T, W)
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_id) lid: vec3<u32>,
) {
  let idx = (wid.y * nwg.x + wid.x) * WG + lid.x;
  if (idx >= p.T * p.width) {
    return;
  }
  let t = idx / p.width;
  let j = idx % p.width;
  let src = t * p.W + p.k_col + j;
  let dst = (p.pos0 + t) * p.width + j;
  k_cache[dst] = qkv[src];
  v_cache[dst] = qkv[src + p.width];
}
