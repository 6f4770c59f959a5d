// Helpers of the sampling kernels (top-k-cut, top-p-cut, draw-token), which run as one workgroup
// of WG threads over the V logits of row 0. Each thread takes a contiguous chunk of the row, so
// "the first so many in id order" is a scan over the threads' chunks. A cut is a key threshold
// and the last id kept among the tokens on it (ties go to the lower id, as in runtime/sampler.ts).
// Logits are compared through key() (float-key.wgsl, prepended before this file).
// Masses are double-f32 numbers (hi, lo: about 48 bits), so that they agree with the CPU
// sampler's float64 where f32 would not: 150 tokens of probability 1 and a tail of 3e-7 sum to
// exactly 150 in f32, which put top-p 0.5's cut one tie early (measured, in the tests).

override WG: u32; // from the KERNELS table (kernels.ts), a power of two

const ALL = 0xffffffffu; // a last tie that keeps every tie
const SUM = 0u;
const MAX = 1u;
const MIN = 2u;

var<workgroup> words: array<u32, WG>;
var<workgroup> masses: array<vec2<f32>, WG>;
var<workgroup> found: atomic<u32>; // the first id where a scan crossed its target

// True when the token of key k at id i survives the cut (threshold, last_tie).
fn within(k: u32, i: u32, threshold: u32, last_tie: u32) -> bool {
  return k > threshold || (k == threshold && i <= last_tie);
}

// This thread's ids [x, y) of a row of n.
fn chunk(lid: u32, n: u32) -> vec2<u32> {
  let size = (n + WG - 1u) / WG;
  let lo = min(lid * size, n);
  return vec2<u32>(lo, min(lo + size, n));
}

// The sum, maximum or minimum of one u32 per thread, the same uniform value in every thread.
fn workgroup_u32(lid: u32, value: u32, op: u32) -> u32 {
  words[lid] = value;
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride /= 2u) {
    if (lid < stride) {
      let a = words[lid];
      let b = words[lid + stride];
      words[lid] = select(select(min(a, b), max(a, b), op == MAX), a + b, op == SUM);
    }
    workgroupBarrier();
  }
  let result = workgroupUniformLoad(&words[0]);
  workgroupBarrier(); // everyone has read words[0] before the next reduction overwrites it
  return result;
}

// The sum of one mass per thread, the same uniform value in every thread.
fn workgroup_mass(lid: u32, value: vec2<f32>) -> vec2<f32> {
  masses[lid] = value;
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride /= 2u) {
    if (lid < stride) {
      masses[lid] = df_add(masses[lid], masses[lid + stride]);
    }
    workgroupBarrier();
  }
  let result = workgroupUniformLoad(&masses[0]);
  workgroupBarrier();
  return result;
}

// What the threads before this one hold, summed in thread order (an exclusive scan, by thread 0:
// WG additions, cheaper than a parallel scan's barriers on a software adapter).
fn count_before(lid: u32, value: u32) -> u32 {
  words[lid] = value;
  workgroupBarrier();
  if (lid == 0u) {
    var sum = 0u;
    for (var t = 0u; t < WG; t++) {
      let v = words[t];
      words[t] = sum;
      sum += v;
    }
  }
  workgroupBarrier();
  let result = words[lid];
  workgroupBarrier();
  return result;
}

fn mass_before(lid: u32, value: vec2<f32>) -> vec2<f32> {
  masses[lid] = value;
  workgroupBarrier();
  if (lid == 0u) {
    var sum = vec2<f32>(0.0);
    for (var t = 0u; t < WG; t++) {
      let v = masses[t];
      masses[t] = sum;
      sum = df_add(sum, v);
    }
  }
  workgroupBarrier();
  let result = masses[lid];
  workgroupBarrier();
  return result;
}

// ---- double-f32 arithmetic (Dekker, Knuth): a value is hi + lo with |lo| <= ulp(hi) / 2 ----
// Products are split by masking bits, not by Dekker's multiply by 4097, so that a compiler fusing
// a multiply and an add (allowed in WGSL) only ever fuses exact products.

fn two_sum(a: f32, b: f32) -> vec2<f32> {
  let s = a + b;
  let bb = s - a;
  return vec2<f32>(s, (a - (s - bb)) + (b - bb));
}

fn quick_two_sum(a: f32, b: f32) -> vec2<f32> {
  let s = a + b;
  return vec2<f32>(s, b - (s - a));
}

fn df_add(x: vec2<f32>, y: vec2<f32>) -> vec2<f32> {
  let s = two_sum(x.x, y.x);
  return quick_two_sum(s.x, s.y + (x.y + y.y));
}

// a as hi + lo, each with at most 12 significant bits, so products of halves are exact in f32
fn split(a: f32) -> vec2<f32> {
  let hi = bitcast<f32>(bitcast<u32>(a) & 0xfffff000u);
  return vec2<f32>(hi, a - hi);
}

fn df_mul(x: vec2<f32>, y: vec2<f32>) -> vec2<f32> {
  let p = x.x * y.x;
  let a = split(x.x);
  let b = split(y.x);
  let err = (((a.x * b.x - p) + a.x * b.y) + a.y * b.x) + a.y * b.y;
  return quick_two_sum(p, err + (x.x * y.y + x.y * y.x));
}

// x < y
fn df_less(x: vec2<f32>, y: vec2<f32>) -> bool {
  return x.x < y.x || (x.x == y.x && x.y < y.y);
}
