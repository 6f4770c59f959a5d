// The first step of attention for T new rows of qkv = [q | k | v] at positions pos0 + t: rotates
// the q heads and the k heads by position (RoPE, when ROPE is 1) and stores k and v in one
// layer's cache. One pass instead of a rotation and then a copy: each invocation either rotates
// one pair of one head (q back into qkv; k into qkv and the cache) or copies one element of v.
// Rotate-half layout: for pair i < D/2 of a head at position pos,
//   x[i]       = x[i] cos - x[i + D/2] sin
//   x[i + D/2] = x[i + D/2] cos + x[i] sin
// cos and sin come from a table computed on the CPU in float64: on the GPU, cos(pos * freq) at
// positions in the thousands loses most of its digits to f32 range reduction.
// With ROPE 0 (learned positions, GPT-2) k is copied like v and q is left alone.

override WG: u32; // from the KERNELS table (kernels.ts)
override ROPE: u32 = 0u; // 1: rotate q and k first

struct Params {
  T: u32,
  W: u32, // row width of qkv: (H + 2 Hkv) D
  H: u32, // query heads; the Hkv k heads follow them, then the v heads
  Hkv: u32,
  half: u32, // D / 2
  pos0: u32,
}

@group(0) @binding(0) var<storage, read_write> k_cache: array<f32>; // (S, Hkv D)
@group(0) @binding(1) var<storage, read_write> v_cache: array<f32>; // (S, Hkv D)
@group(0) @binding(2) var<storage, read_write> qkv: array<f32>; // (T, W)
@group(0) @binding(3) var<storage, read> table: array<vec2<f32>>; // (positions, D / 2) of (cos, sin); unread unless ROPE
@group(0) @binding(4) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_id) lid: vec3<u32>,
) {
  var idx = (wid.y * nwg.x + wid.x) * WG + lid.x;
  let D = 2u * p.half;
  let width = p.Hkv * D; // a cache row
  let k_col = p.H * D;
  // invocations 0 .. T (H + Hkv) D/2 - 1 rotate a pair of q or k (ROPE) or copy an element of k
  let first = select(p.T * width, p.T * (p.H + p.Hkv) * p.half, ROPE == 1u);
  if (idx < first) {
    if (ROPE == 0u) {
      let t = idx / width;
      let j = idx % width;
      k_cache[(p.pos0 + t) * width + j] = qkv[t * p.W + k_col + j];
      return;
    }
    let i = idx % p.half;
    let head = (idx / p.half) % (p.H + p.Hkv);
    let t = idx / (p.half * (p.H + p.Hkv));
    let base = t * p.W + head * D;
    let cs = table[(p.pos0 + t) * p.half + i];
    let x1 = qkv[base + i];
    let x2 = qkv[base + i + p.half];
    let y1 = x1 * cs.x - x2 * cs.y;
    let y2 = x2 * cs.x + x1 * cs.y;
    qkv[base + i] = y1;
    qkv[base + i + p.half] = y2;
    if (head >= p.H) {
      let dst = (p.pos0 + t) * width + (head - p.H) * D;
      k_cache[dst + i] = y1;
      k_cache[dst + i + p.half] = y2;
    }
    return;
  }
  // the rest copy v
  idx -= first;
  if (idx >= p.T * width) {
    return;
  }
  let t = idx / width;
  let j = idx % width;
  v_cache[(p.pos0 + t) * width + j] = qkv[t * p.W + k_col + width + j];
}
