// Causal attention of query head h for token t (one workgroup each) over cache positions
// 0 .. pos0 + t, with an online softmax: keys are taken WG at a time, one per thread, and the
// running max m, normaliser l and output acc are rescaled by exp(m_old - m_new) as each tile
// arrives, so any context length runs in fixed workgroup memory. Query head h reads key/value
// head h / (H / Hkv) (grouped-query attention). Prepended with workgroup-reduce.wgsl.
//
// With SPLIT 1 it is part 1 of flash-decoding: one decode query (T = 1) over a long KV cache,
// split across workgroups. Workgroup (h, s) takes query head h over cache positions
// s * chunk .. min(pos0 + 1, (s + 1) * chunk) - 1 and writes its partial result, unnormalised:
// row (h, s) of `out` is [m, l, 0, 0, acc (D)], the running max, the sum of exp(score - m) and the
// sum of exp(score - m) v; attention-combine.wgsl merges the splits. Without the split, one
// workgroup per head would walk all pos0 + 1 keys alone while the rest of the GPU idles: decode
// has only H queries.

override WG: u32; // threads, and keys per tile: from the KERNELS table (kernels.ts)
const PER_THREAD: u32 = 4u; // head dims each thread owns: lid, lid + WG, ...
override MAX_D: u32 = WG * PER_THREAD; // largest head size
override SPLIT: u32 = 0u; // 1: flash-decoding's partial results (see above)
const NEG_BIG: f32 = -3.0e38; // stands in for -infinity, which WGSL has no literal for

struct Params {
  W: u32, // row width of qkv: (H + 2 Hkv) D
  H: u32,
  Hkv: u32,
  D: u32,
  pos0: u32,
  chunk: u32, // keys per split (SPLIT)
  splits: u32, // (SPLIT)
  scale: f32, // 1 / sqrt(D)
}

@group(0) @binding(0) var<storage, read_write> out: array<f32>; // (T, H D), or (H, splits, D + 4) with SPLIT
@group(0) @binding(1) var<storage, read> qkv: array<f32>; // (T, W)
@group(0) @binding(2) var<storage, read> k_cache: array<f32>; // (S, Hkv D)
@group(0) @binding(3) var<storage, read> v_cache: array<f32>; // (S, Hkv D)
@group(0) @binding(4) var<uniform> p: Params;

var<workgroup> q: array<f32, MAX_D>; // (D) this head's query, pre-scaled
var<workgroup> probs: array<f32, WG>; // (WG) exp(score - m) of the current tile

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid3: vec3<u32>) {
  let lid = lid3.x;
  let h = wid.x;
  let s = wid.y; // the token t, or with SPLIT the split (of token 0)
  let t = select(s, 0u, SPLIT == 1u);
  let width = p.Hkv * p.D;
  let kv_col = (h / (p.H / p.Hkv)) * p.D;
  // keys first .. end - 1: all the query sees, or one split's share of them
  let first = select(0u, s * p.chunk, SPLIT == 1u);
  let end = select(p.pos0 + t + 1u, min(p.pos0 + 1u, first + p.chunk), SPLIT == 1u);

  for (var d = lid; d < p.D; d += WG) {
    q[d] = qkv[t * p.W + h * p.D + d] * p.scale;
  }
  workgroupBarrier();

  var m = NEG_BIG;
  var l = 0.0;
  var acc: array<f32, PER_THREAD>;
  for (var tile0 = first; tile0 < end; tile0 += WG) {
    let j = tile0 + lid;
    var score = NEG_BIG;
    if (j < end) {
      score = 0.0;
      let kb = j * width + kv_col;
      for (var d = 0u; d < p.D; d++) {
        score += q[d] * k_cache[kb + d];
      }
    }
    let m_new = max(m, workgroup_max(lid, score));
    var prob = 0.0;
    if (j < end) {
      prob = exp(score - m_new);
    }
    probs[lid] = prob;
    let correction = exp(m - m_new);
    l = l * correction + workgroup_sum(lid, prob); // the barriers in here also publish probs
    m = m_new;
    let keys = min(WG, end - tile0);
    for (var r = 0u; r < PER_THREAD; r++) {
      let d = lid + r * WG;
      if (d < p.D) {
        var a = acc[r] * correction;
        for (var jj = 0u; jj < keys; jj++) {
          a += probs[jj] * v_cache[(tile0 + jj) * width + kv_col + d];
        }
        acc[r] = a;
      }
    }
    workgroupBarrier(); // probs is rewritten by the next tile
  }
  if (SPLIT == 1u) {
    let row = (h * p.splits + s) * (p.D + 4u);
    if (lid == 0u) {
      out[row] = m;
      out[row + 1u] = l;
    }
    for (var r = 0u; r < PER_THREAD; r++) {
      let d = lid + r * WG;
      if (d < p.D) {
        out[row + 4u + d] = acc[r];
      }
    }
    return;
  }
  for (var r = 0u; r < PER_THREAD; r++) {
    let d = lid + r * WG;
    if (d < p.D) {
      out[t * p.H * p.D + h * p.D + d] = acc[r] / l;
    }
  }
}
