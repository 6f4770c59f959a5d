// Reads a weight stored as Q4_K super-blocks of 256 (llama.cpp's layout, 144 bytes: f16 d, f16 dmin,
// 12 bytes of 6-bit sub-block scales and mins, 128 bytes of 4-bit quants; x = d sc q - dmin m per
// sub-block of 32; see src/runtime/quant/quantize.ts), in place of weight-load.wgsl (see
// quant-q8-0.wgsl for how it is used). 144 bytes are whole u32s, so blocks are stored unpadded:
// word 0 = d | dmin << 16, words 1..3 the scales, words 4..35 the quants.

const BLOCK_WORDS: u32 = 36u;

fn word(j: u32) -> u32 {
  return w[j >> 1u][j & 1u];
}

// byte k (0..11) of the scales of the block at word b
fn scaleByte(b: u32, k: u32) -> u32 {
  return (word(b + 1u + (k >> 2u)) >> ((k & 3u) * 8u)) & 0xffu;
}

// (scale, min) of sub-block j (0..7): ggml's get_scale_min_k4
fn scaleMin(b: u32, j: u32) -> vec2<f32> {
  if (j < 4u) {
    return vec2<f32>(f32(scaleByte(b, j) & 63u), f32(scaleByte(b, j + 4u) & 63u));
  }
  let lo = scaleByte(b, j + 4u);
  return vec2<f32>(f32((lo & 15u) | ((scaleByte(b, j - 4u) >> 6u) << 4u)), f32((lo >> 4u) | ((scaleByte(b, j) >> 6u) << 4u)));
}

// Elements 4i .. 4i+3 of the weight. Vec4 v (0..63) of a super-block lies in sub-block j = v / 8,
// whose quants are the low (j even) or high (j odd) nibbles of the 32 bytes of chunk j / 2.
fn weight4(i: u32) -> vec4<f32> {
  let b = (i >> 6u) * BLOCK_WORDS;
  let v = i & 63u;
  let j = v >> 3u;
  let u = (word(b + 4u + (j >> 1u) * 8u + (v & 7u)) >> ((j & 1u) * 4u)) & 0x0f0f0f0fu;
  let q = vec4<f32>((vec4<u32>(u) >> vec4<u32>(0u, 8u, 16u, 24u)) & vec4<u32>(0xffu));
  let dm = unpack2x16float(word(b));
  let sm = scaleMin(b, j);
  return (dm.x * sm.x) * q - vec4<f32>(dm.y * sm.y);
}

// Element i of the weight.
fn weight1(i: u32) -> f32 {
  return weight4(i >> 2u)[i & 3u];
}
