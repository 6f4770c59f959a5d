// Flash-decoding, part 1 (serial style, for CPU-backed adapters): as attention-split.wgsl, one
// invocation per (query head h, split s) walking its keys alone with the online softmax of
// attention-per-query.wgsl, no barriers. Decode has only H queries: without the split, H
// invocations each walk all pos0 + 1 keys while the other CPU threads of the adapter idle.
// Row (h, s) of `part` is [m, l, 0, 0, acc (D)], acc unnormalised. Needs D % 4 == 0.

override WG: u32; // from the KERNELS table (kernels.ts)
const MAX_D4: u32 = 64u; // largest head size / 4
const NEG_BIG: f32 = -3.0e38; // stands in for -infinity, which WGSL has no literal for

struct Params {
  W4: u32, // row width of qkv / 4: (H + 2 Hkv) D / 4
  H: u32,
  Hkv: u32,
  D4: u32, // head size / 4
  pos0: u32,
  chunk: u32, // keys per split
  splits: u32,
  scale: f32, // 1 / sqrt(D)
}

@group(0) @binding(0) var<storage, read_write> part: array<vec4<f32>>; // (H, splits, D / 4 + 1)
@group(0) @binding(1) var<storage, read> qkv: array<vec4<f32>>; // (1, W / 4)
@group(0) @binding(2) var<storage, read> k_cache: array<vec4<f32>>; // (S, Hkv D / 4)
@group(0) @binding(3) var<storage, read> v_cache: array<vec4<f32>>; // (S, Hkv D / 4)
@group(0) @binding(4) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let h = gid.x % p.H;
  let s = gid.x / p.H;
  if (s >= p.splits) {
    return;
  }
  let width4 = p.Hkv * p.D4;
  let kv_col = (h / (p.H / p.Hkv)) * p.D4;
  let first = s * p.chunk;
  let end = min(p.pos0 + 1u, first + p.chunk); // keys first .. end - 1

  var q: array<vec4<f32>, MAX_D4>; // (D / 4) this head's query, pre-scaled
  var acc: array<vec4<f32>, MAX_D4>; // (D / 4) sum of exp(score - m) v so far
  for (var d = 0u; d < p.D4; d++) {
    q[d] = qkv[h * p.D4 + d] * p.scale;
    acc[d] = vec4<f32>(0.0);
  }
  var m = NEG_BIG;
  var l = 0.0;
  for (var j = first; j < end; j++) {
    let kb = j * width4 + kv_col;
    var s4 = vec4<f32>(0.0);
    for (var d = 0u; d < p.D4; d++) {
      s4 += q[d] * k_cache[kb + d];
    }
    let score = dot(s4, vec4<f32>(1.0));
    let m_new = max(m, score);
    let correction = exp(m - m_new);
    let prob = exp(score - m_new);
    l = l * correction + prob;
    m = m_new;
    for (var d = 0u; d < p.D4; d++) {
      acc[d] = acc[d] * correction + prob * v_cache[kb + d];
    }
  }
  let row = (h * p.splits + s) * (p.D4 + 1u);
  part[row] = vec4<f32>(m, l, 0.0, 0.0);
  for (var d = 0u; d < p.D4; d++) {
    part[row + 1u + d] = acc[d];
  }
}
