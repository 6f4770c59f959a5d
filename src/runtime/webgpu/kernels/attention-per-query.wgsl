// Causal attention on CPU-backed adapters: one invocation per (query head h, token t) walks cache
// positions 0 .. pos0 + t alone, with an online softmax (running max m, normaliser l, output acc
// rescaled by exp(m_old - m_new) whenever the max grows). attention.wgsl shares each query's keys
// among 64 threads and reduces through workgroup memory, two barriers per step, which software
// adapters run as coroutine switches (see matvec-per-row.wgsl). Query head h reads key/value head
// h / (H / Hkv) (grouped-query attention). Needs D % 4 == 0: keys, values and q are read as vec4.
//
// With SPLIT 1 it is part 1 of flash-decoding (as attention.wgsl with SPLIT): one invocation per
// (query head h, split s) of one decode query walks its share of the keys alone, no barriers;
// without the split, H invocations would each walk all pos0 + 1 keys while the adapter's other CPU
// threads idle. Row (h, s) of `out` is then [m, l, 0, 0, acc (D)], acc unnormalised.

// Small workgroups: decode has only H invocations, and a software adapter runs each workgroup on
// one CPU thread, so 64 to a workgroup would put every head on one core.
override WG: u32; // from the KERNELS table (kernels.ts)
override SPLIT: u32 = 0u; // 1: flash-decoding's partial results (see above)
const MAX_D4: u32 = 64u; // largest head size / 4
const NEG_BIG: f32 = -3.0e38; // stands in for -infinity, which WGSL has no literal for

struct Params {
  T: u32,
  W4: u32, // row width of qkv / 4: (H + 2 Hkv) D / 4
  H: u32,
  Hkv: u32,
  D4: u32, // head size / 4
  pos0: u32,
  chunk: u32, // keys per split (SPLIT)
  splits: u32, // (SPLIT)
  scale: f32, // 1 / sqrt(D)
}

@group(0) @binding(0) var<storage, read_write> out: array<vec4<f32>>; // (T, H D / 4), or (H, splits, D / 4 + 1) with SPLIT
@group(0) @binding(1) var<storage, read> qkv: array<vec4<f32>>; // (T, W / 4)
@group(0) @binding(2) var<storage, read> k_cache: array<vec4<f32>>; // (S, Hkv D / 4)
@group(0) @binding(3) var<storage, read> v_cache: array<vec4<f32>>; // (S, Hkv D / 4)
@group(0) @binding(4) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let h = gid.x % p.H;
  let s = gid.x / p.H; // the token t, or with SPLIT the split (of token 0)
  if (s >= select(p.T, p.splits, SPLIT == 1u)) {
    return;
  }
  let t = select(s, 0u, SPLIT == 1u);
  let width4 = p.Hkv * p.D4;
  let kv_col = (h / (p.H / p.Hkv)) * p.D4;
  // keys first .. end - 1: all the query sees, or one split's share of them
  let first = select(0u, s * p.chunk, SPLIT == 1u);
  let end = select(p.pos0 + t + 1u, min(p.pos0 + 1u, first + p.chunk), SPLIT == 1u);

  var q: array<vec4<f32>, MAX_D4>; // (D / 4) this head's query, pre-scaled
  var acc: array<vec4<f32>, MAX_D4>; // (D / 4) sum of exp(score - m) v so far
  for (var d = 0u; d < p.D4; d++) {
    q[d] = qkv[t * p.W4 + h * p.D4 + d] * p.scale;
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
  if (SPLIT == 1u) {
    let row = (h * p.splits + s) * (p.D4 + 1u);
    out[row] = vec4<f32>(m, l, 0.0, 0.0);
    for (var d = 0u; d < p.D4; d++) {
      out[row + 1u + d] = acc[d];
    }
    return;
  }
  for (var d = 0u; d < p.D4; d++) {
    out[t * p.H * p.D4 + h * p.D4 + d] = acc[d] / l;
  }
}
