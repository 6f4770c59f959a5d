// Temperature and top-p's cut without sorting: writes every token's unnormalised probability
// exp((logit - max) / temperature), 0 outside top-k's cut, then finds the nucleus, the smallest
// set of top-ranked tokens whose mass reaches top_p of the total (runtime/sampler.ts's nucleus):
// the largest key t whose tokens at or above it hold that mass, 32 summing passes, then the ties
// on t in id order until the mass is reached. With top_p 1 the cut keeps everything.

struct Params {
  n: u32,
  inv_temperature: f32,
  top_p: vec2<f32>, // double-f32 (see sample-common.wgsl)
}

@group(0) @binding(0) var<storage, read_write> cut: array<u32>; // (6) from top-k-cut.wgsl; writes [4], [5]
@group(0) @binding(1) var<storage, read_write> weights: array<f32>; // (n) unnormalised probabilities
@group(0) @binding(2) var<storage, read> logits: array<u32>; // (n) f32 bits
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_id) lid3: vec3<u32>) {
  let lid = lid3.x;
  let range = chunk(lid, p.n);
  let top_bits = cut[1];
  let top = bitcast<f32>(top_bits);
  let finite_top = key(top_bits) > KEY_NEG_INF && key(top_bits) < KEY_POS_INF;
  var mass = vec2<f32>(0.0);
  for (var i = range.x; i < range.y; i++) {
    var w = 0.0;
    if (finite_top && within(key(logits[i]), i, cut[2], cut[3])) {
      // clamped: far below the top, (logit - max) may overflow to -infinity
      w = exp(max((bitcast<f32>(logits[i]) - top) * p.inv_temperature, -200.0));
    }
    weights[i] = w;
    mass = df_add(mass, vec2<f32>(w, 0.0));
  }
  let total = workgroup_mass(lid, mass);

  var threshold = 0u;
  var last_tie = ALL;
  if (p.top_p.x < 1.0) {
    let need = df_mul(p.top_p, total);
    for (var bit = 31i; bit >= 0i; bit--) {
      let t = threshold | (1u << u32(bit));
      var m = vec2<f32>(0.0);
      for (var i = range.x; i < range.y; i++) {
        if (key(logits[i]) >= t) {
          m = df_add(m, vec2<f32>(weights[i], 0.0));
        }
      }
      if (!df_less(workgroup_mass(lid, m), need)) {
        threshold = t;
      }
    }
    // the ties on the threshold in id order, until the running mass reaches `need`: each thread
    // whose chunk starts short of it scans, and the first crossing wins
    var above = vec2<f32>(0.0);
    var ties = vec2<f32>(0.0);
    for (var i = range.x; i < range.y; i++) {
      let k = key(logits[i]);
      if (k > threshold) {
        above = df_add(above, vec2<f32>(weights[i], 0.0));
      } else if (k == threshold) {
        ties = df_add(ties, vec2<f32>(weights[i], 0.0));
      }
    }
    var run = df_add(workgroup_mass(lid, above), mass_before(lid, ties));
    if (lid == 0u) {
      atomicStore(&found, ALL); // rounding may leave the last tie short: then all ties stay
    }
    workgroupBarrier();
    if (df_less(run, need)) {
      for (var i = range.x; i < range.y; i++) {
        if (key(logits[i]) == threshold) {
          run = df_add(run, vec2<f32>(weights[i], 0.0));
          if (!df_less(run, need)) {
            atomicMin(&found, i);
            break;
          }
        }
      }
    }
    workgroupBarrier();
    last_tie = atomicLoad(&found);
  }
  if (lid == 0u) {
    cut[4] = threshold;
    cut[5] = last_tie;
  }
}
