// Greedy decoding's choice on the GPU: the largest of the n values of row 0 and its index, so a
// decode step reads back 8 bytes instead of the V logits. One workgroup: each thread scans a
// stride of the row, then a tree in workgroup memory. Ties go to the lowest index and NaN loses
// to any number, as in the CPU sampler (runtime/sampler.ts).
// Values are compared as integers that order like the floats (key below): WGSL lets a compiler
// assume no NaN or infinity in float arithmetic, so `v != v` may fold to false.

override WG: u32; // from the KERNELS table (kernels.ts)

struct Params {
  n: u32,
}

@group(0) @binding(0) var<storage, read_write> out: array<u32>; // (2): index, the value's bits
@group(0) @binding(1) var<storage, read> inp: array<u32>; // (n) f32 bits
@group(0) @binding(2) var<uniform> p: Params;

var<workgroup> best_key: array<u32, WG>;
var<workgroup> best_index: array<u32, WG>;

// An unsigned key in the order of the f32 with these bits: negatives flipped below the positives,
// -0 as +0, NaN as 0, below -infinity.
fn key(bits: u32) -> u32 {
  if ((bits & 0x7fffffffu) > 0x7f800000u) {
    return 0u;
  }
  if (bits == 0x80000000u) {
    return 0x80000000u;
  }
  if ((bits & 0x80000000u) != 0u) {
    return ~bits;
  }
  return bits | 0x80000000u;
}

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_id) lid3: vec3<u32>) {
  let lid = lid3.x;
  var index = min(lid, p.n - 1u);
  var k = key(inp[index]);
  for (var i = lid + WG; i < p.n; i += WG) {
    let ki = key(inp[i]);
    if (ki > k) {
      k = ki;
      index = i;
    }
  }
  best_key[lid] = k;
  best_index[lid] = index;
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride /= 2u) {
    if (lid < stride) {
      let other = best_key[lid + stride];
      if (other > best_key[lid] || (other == best_key[lid] && best_index[lid + stride] < best_index[lid])) {
        best_key[lid] = other;
        best_index[lid] = best_index[lid + stride];
      }
    }
    workgroupBarrier();
  }
  if (lid == 0u) {
    out[0] = best_index[0];
    out[1] = inp[best_index[0]];
  }
}
