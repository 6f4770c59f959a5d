// Reads a weight stored as Q4_0 blocks (llama.cpp's layout: f16 d, then 16 bytes whose low nibbles
// are elements 0..15 and high nibbles 16..31; x = d (q - 8)), in place of weight-load.wgsl (see
// quant-q8-0.wgsl for how it is used). On the GPU each block is padded from 18 to 20 bytes: word 0
// holds d in its low half, words 1..4 the 16 bytes of nibbles.

const BLOCK_WORDS: u32 = 5u;

fn word(j: u32) -> u32 {
  return w[j >> 1u][j & 1u];
}

// Elements 4i .. 4i+3 of the weight: 4 nibbles of block i / 8. Vec4 v (0..7) of a block is the
// low nibbles of quant word v for v < 4, the high nibbles of word v - 4 after.
fn weight4(i: u32) -> vec4<f32> {
  let b = (i >> 3u) * BLOCK_WORDS;
  let v = i & 7u;
  let u = (word(b + 1u + (v & 3u)) >> ((v >> 2u) * 4u)) & 0x0f0f0f0fu;
  let q = vec4<f32>((vec4<u32>(u) >> vec4<u32>(0u, 8u, 16u, 24u)) & vec4<u32>(0xffu));
  return unpack2x16float(word(b)).x * (q - 8.0);
}

// Element i of the weight.
fn weight1(i: u32) -> f32 {
  return weight4(i >> 2u)[i & 3u];
}
