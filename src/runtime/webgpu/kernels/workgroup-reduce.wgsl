// The sum or the maximum of one value per thread over a workgroup of WG threads, returned to
// every thread: a tree in workgroup memory, log2(WG) + 2 barriers. Prepended to the cooperative
// kernels that reduce (layer-norm, rms-norm, attention), which declare `override WG: u32` (a power
// of two) and call these from uniform control flow.

var<workgroup> partial: array<f32, WG>;

fn workgroup_reduce(lid: u32, value: f32, take_max: bool) -> f32 {
  partial[lid] = value;
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride /= 2u) {
    if (lid < stride) {
      let other = partial[lid + stride];
      partial[lid] = select(partial[lid] + other, max(partial[lid], other), take_max);
    }
    workgroupBarrier();
  }
  let result = partial[0];
  workgroupBarrier(); // everyone has read partial[0] before the next reduction overwrites it
  return result;
}

fn workgroup_sum(lid: u32, value: f32) -> f32 {
  return workgroup_reduce(lid, value, false);
}

fn workgroup_max(lid: u32, value: f32) -> f32 {
  return workgroup_reduce(lid, value, true);
}
