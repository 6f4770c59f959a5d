// Reads weights stored as f32, f16 or bf16. Prepended to the kernels that read a weight matrix;
// the including kernel declares the weight binding itself, in its own binding order, as
//   var<storage, read> w: array<vec2<u32>>;
// f32 elements take one u32 each; f16 and bf16 take half of one, two to a u32, low half first
// (the little-endian order the bytes came in). unpack2x16float needs no 'shader-f16'.

// 0 f32, 1 f16, 2 bf16 (GPU_DTYPE_CODE in gpu-weight.ts). Constant at pipeline creation, so the
// branches below fold away.
override DTYPE: u32 = 0u;

// Two bf16 in one u32 -> (low, high) as f32: a bf16 is the high half of an f32.
fn unpack2x_bf16(u: u32) -> vec2<f32> {
  return vec2<f32>(bitcast<f32>(u << 16u), bitcast<f32>(u & 0xffff0000u));
}

// Elements 4i .. 4i+3 of the weight (i counts groups of four from the start of the binding).
fn weight4(i: u32) -> vec4<f32> {
  if (DTYPE == 0u) {
    return bitcast<vec4<f32>>(vec4<u32>(w[2u * i], w[2u * i + 1u]));
  }
  let u = w[i];
  if (DTYPE == 1u) {
    return vec4<f32>(unpack2x16float(u.x), unpack2x16float(u.y));
  }
  return vec4<f32>(unpack2x_bf16(u.x), unpack2x_bf16(u.y));
}

// Element i of the weight.
fn weight1(i: u32) -> f32 {
  if (DTYPE == 0u) {
    return bitcast<f32>(w[i / 2u][i % 2u]);
  }
  let u = w[i / 4u][(i / 2u) % 2u];
  if (DTYPE == 1u) {
    return unpack2x16float(u)[i % 2u];
  }
  return unpack2x_bf16(u)[i % 2u];
}
