// Reads a weight stored as Q8_0 blocks (llama.cpp's layout: f16 d, 32 x i8 q; x = d q), in place of
// weight-load.wgsl: prepended to the same kernels (matvec, matmul, embed), which read the weight
// only through weight4 / weight1 and declare the binding themselves as
//   var<storage, read> w: array<vec2<u32>>;
// On the GPU each block is padded from 34 to 36 bytes (gpu-quant.ts) so that it starts on a u32:
// word 0 holds d in its low half, words 1..8 the quants, four to a word. Rows are whole blocks and
// follow each other, so the flat index the kernels pass (row * I / 4 + k) finds its block with a
// shift, without knowing the row width. The scale is one more u32 read per four weights, from the
// same block the quants came from (cached).

const BLOCK_WORDS: u32 = 9u;

fn word(j: u32) -> u32 {
  return w[j >> 1u][j & 1u];
}

// four signed bytes of a u32, low byte first, as f32
fn i8x4(u: u32) -> vec4<f32> {
  return vec4<f32>((vec4<i32>(bitcast<i32>(u)) << vec4<u32>(24u, 16u, 8u, 0u)) >> vec4<u32>(24u));
}

// Elements 4i .. 4i+3 of the weight: quant word i % 8 of block i / 8.
fn weight4(i: u32) -> vec4<f32> {
  let b = (i >> 3u) * BLOCK_WORDS;
  return unpack2x16float(word(b)).x * i8x4(word(b + 1u + (i & 7u)));
}

// Element i of the weight.
fn weight1(i: u32) -> f32 {
  return weight4(i >> 2u)[i & 3u];
}
