// Top-k's cut without sorting: the key of the k-th most likely token, and the last id kept among
// the tokens on that key; also the largest logit and its id (the first of them). Tokens rank by
// logit, ties to the lower id, as in runtime/sampler.ts. The threshold is built bit by bit from
// the top: the largest key t with at least k finite logits at or above it, 32 counting passes.
// With top_k 0, or at least as many as there are finite logits, the cut keeps every finite one.

struct Params {
  n: u32,
  top_k: u32,
}

@group(0) @binding(0) var<storage, read_write> cut: array<u32>; // (6) argmax, its bits, top-k cut, top-p cut
@group(0) @binding(1) var<storage, read> logits: array<u32>; // (n) f32 bits
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_id) lid3: vec3<u32>) {
  let lid = lid3.x;
  let range = chunk(lid, p.n);
  var best = 0u;
  var finite = 0u;
  for (var i = range.x; i < range.y; i++) {
    let k = key(logits[i]);
    best = max(best, k);
    finite += u32(k > KEY_NEG_INF);
  }
  let top = workgroup_u32(lid, best, MAX);
  var first = ALL;
  for (var i = range.x; i < range.y; i++) {
    if (key(logits[i]) == top) {
      first = i;
      break;
    }
  }
  let argmax = workgroup_u32(lid, first, MIN);
  let candidates = workgroup_u32(lid, finite, SUM);

  var threshold = KEY_FINITE_MIN;
  var last_tie = ALL;
  if (p.top_k > 0u && p.top_k < candidates) {
    threshold = 0u;
    for (var bit = 31i; bit >= 0i; bit--) {
      let t = threshold | (1u << u32(bit));
      var count = 0u;
      for (var i = range.x; i < range.y; i++) {
        count += u32(key(logits[i]) >= t);
      }
      if (workgroup_u32(lid, count, SUM) >= p.top_k) {
        threshold = t;
      }
    }
    // the ties on the threshold to keep, in id order: the k-th token is the wanted-th of them
    var above = 0u;
    var ties = 0u;
    for (var i = range.x; i < range.y; i++) {
      let k = key(logits[i]);
      above += u32(k > threshold);
      ties += u32(k == threshold);
    }
    let wanted = p.top_k - workgroup_u32(lid, above, SUM);
    let before = count_before(lid, ties);
    if (lid == 0u) {
      atomicStore(&found, ALL);
    }
    workgroupBarrier();
    if (before < wanted && wanted <= before + ties) {
      var seen = before;
      for (var i = range.x; i < range.y; i++) {
        if (key(logits[i]) == threshold) {
          seen++;
          if (seen == wanted) {
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
    cut[0] = argmax;
    cut[1] = logits[argmax];
    cut[2] = threshold;
    cut[3] = last_tie;
  }
}
