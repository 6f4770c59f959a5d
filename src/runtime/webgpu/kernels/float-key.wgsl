// Floats compared as unsigned integers in the same order: prepended to the kernels that rank
// logits (argmax, and the sampling kernels through sample-common.wgsl). WGSL lets a compiler
// assume no NaN or infinity in float arithmetic, so `v != v` or `v == -inf` may fold to false;
// on the bits, NaN and the infinities are seen for what they are.

const KEY_NEG_INF = 0x007fffffu; // key(-infinity)
const KEY_FINITE_MIN = 0x00800000u; // key(-f32 max): the lowest key of a finite value
const KEY_POS_INF = 0xff800000u; // key(+infinity)

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
