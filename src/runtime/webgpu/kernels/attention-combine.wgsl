// Flash-decoding, part 2: merges the per-split partial results of the attention kernels (run with
// SPLIT 1) into the attention output of the decode query. For head h, with M = max over splits of m_s:
//   out = sum_s exp(m_s - M) acc_s / sum_s exp(m_s - M) l_s
// One invocation per output element (h, d): a few splits each, no barriers, either kernel style.

override WG: u32; // from the KERNELS table (kernels.ts)

struct Params {
  H: u32,
  D: u32,
  splits: u32,
}

@group(0) @binding(0) var<storage, read_write> out: array<f32>; // (1, H D)
@group(0) @binding(1) var<storage, read> part: array<f32>; // (H, splits, D + 4): [m, l, 0, 0, acc (D)]
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  if (i >= p.H * p.D) {
    return;
  }
  let h = i / p.D;
  let d = i % p.D;
  let stride = p.D + 4u;
  let base = h * p.splits * stride;
  var M = part[base];
  for (var s = 1u; s < p.splits; s++) {
    M = max(M, part[base + s * stride]);
  }
  var l = 0.0;
  var acc = 0.0;
  for (var s = 0u; s < p.splits; s++) {
    let row = base + s * stride;
    let w = exp(part[row] - M); // 0 for a split with no keys (m = -3e38)
    l += w * part[row + 1u];
    acc += w * part[row + 4u + d];
  }
  out[i] = acc / l;
}
