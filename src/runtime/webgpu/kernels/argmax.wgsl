// Greedy decoding's choice on the GPU: the largest of the n values of row 0 and its index, so a
// decode step reads back 8 bytes instead of the V logits. One workgroup: each thread scans a
// stride of the row, then a tree in workgroup memory. Ties go to the lowest index and NaN loses
// to any number, as in the CPU sampler (runtime/sampler.ts).
// Values are compared as integers that order like the floats (key() of float-key.wgsl, prepended).

override WG: u32; // from the KERNELS table (kernels.ts)

struct Params {
  n: u32,
}

@group(0) @binding(0) var<storage, read_write> out: array<u32>; // (2): index, the value's bits
@group(0) @binding(1) var<storage, read> inp: array<u32>; // (n) f32 bits
@group(0) @binding(2) var<uniform> p: Params;

var<workgroup> best_key: array<u32, WG>;
var<workgroup> best_index: array<u32, WG>;

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
