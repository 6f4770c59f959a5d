// Sampling's draw: min-p on the tokens left by top-k-cut and top-p-cut, then the token where the
// running mass in id order first exceeds random * total, as runtime/sampler.ts walks its
// survivors. Writes the id and the largest logit's bits (8 bytes to read back). A row whose
// largest logit is +infinity picks it, as the CPU sampler does; a row with no finite logit
// writes that logit (NaN or -infinity) for the host to refuse.

struct Params {
  n: u32,
  _pad: u32, // the double-f32 numbers are 8-byte aligned
  random: vec2<f32>, // double-f32 (see sample-common.wgsl), uniform in [0, 1)
  min_p: vec2<f32>,
}

@group(0) @binding(0) var<storage, read_write> out: array<u32>; // (2): id, the largest logit's bits
@group(0) @binding(1) var<storage, read> cut: array<u32>; // (6) see top-k-cut.wgsl
@group(0) @binding(2) var<storage, read> weights: array<f32>; // (n) from top-p-cut.wgsl
@group(0) @binding(3) var<storage, read> logits: array<u32>; // (n) f32 bits
@group(0) @binding(4) var<uniform> p: Params;

fn survives(i: u32) -> bool {
  let w = weights[i];
  return w > 0.0 && !df_less(vec2<f32>(w, 0.0), p.min_p) && within(key(logits[i]), i, cut[4], cut[5]);
}

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_id) lid3: vec3<u32>) {
  let lid = lid3.x;
  let range = chunk(lid, p.n);
  var mass = vec2<f32>(0.0);
  var last = 0u; // the last survivor: where rounding leaves the goal a hair above the total
  for (var i = range.x; i < range.y; i++) {
    if (survives(i)) {
      mass = df_add(mass, vec2<f32>(weights[i], 0.0));
      last = i;
    }
  }
  let goal = df_mul(p.random, workgroup_mass(lid, mass));
  let fallback = workgroup_u32(lid, last, MAX);
  var run = mass_before(lid, mass);
  if (lid == 0u) {
    atomicStore(&found, ALL);
  }
  workgroupBarrier();
  // each thread whose chunk starts at or below the goal scans it; the first crossing wins
  if (!df_less(goal, run)) {
    for (var i = range.x; i < range.y; i++) {
      if (survives(i)) {
        run = df_add(run, vec2<f32>(weights[i], 0.0));
        if (df_less(goal, run)) {
          atomicMin(&found, i);
          break;
        }
      }
    }
  }
  workgroupBarrier();
  if (lid == 0u) {
    let top_bits = cut[1];
    var id = atomicLoad(&found);
    if (id == ALL) {
      id = fallback;
    }
    if (key(top_bits) >= KEY_POS_INF || key(top_bits) <= KEY_NEG_INF) {
      id = cut[0];
    }
    out[0] = id;
    out[1] = top_bits;
  }
}
