// Reads a weight stored as Q6_K super-blocks of 256 (llama.cpp's layout, 210 bytes: 128 of low
// nibbles ql, 64 of high 2-bit pairs qh, 16 x i8 sub-block scales, f16 d; x = d sc (q - 32) per
// sub-block of 16; see src/runtime/quant/quantize.ts), in place of weight-load.wgsl (see
// quant-q8-0.wgsl for how it is used). On the GPU each block is padded from 210 to 212 bytes: words
// 0..31 ql, 32..47 qh, 48..51 the scales, word 52 d in its low half.

const BLOCK_WORDS: u32 = 53u;

fn word(j: u32) -> u32 {
  return w[j >> 1u][j & 1u];
}

// Elements 4i .. 4i+3 of the weight. Element e = 4v of a super-block: half n = e / 128, and within
// it quarter r = (e % 128) / 32 and l = e % 32: the low 4 bits are nibble r / 2 of ql byte
// 64 n + 32 (r % 2) + l, the high 2 bits are bits 2r of qh byte 32 n + l, the scale is byte e / 16.
fn weight4(i: u32) -> vec4<f32> {
  let b = (i >> 6u) * BLOCK_WORDS;
  let v = i & 63u; // vec4 of the super-block
  let n = v >> 5u;
  let r = (v >> 3u) & 3u;
  let l4 = v & 7u; // l / 4
  let lo = (word(b + n * 16u + (r & 1u) * 8u + l4) >> ((r >> 1u) * 4u)) & 0x0f0f0f0fu;
  let hi = ((word(b + 32u + n * 8u + l4) >> (2u * r)) & 0x03030303u) << 4u;
  let q = vec4<f32>((vec4<u32>(lo | hi) >> vec4<u32>(0u, 8u, 16u, 24u)) & vec4<u32>(0xffu)) - 32.0;
  let e16 = v >> 2u; // the sub-block of 16
  let sc = f32((bitcast<i32>(word(b + 48u + (e16 >> 2u))) << (24u - 8u * (e16 & 3u))) >> 24u);
  return (unpack2x16float(word(b + 52u)).x * sc) * q;
}

// Element i of the weight.
fn weight1(i: u32) -> f32 {
  return weight4(i >> 2u)[i & 3u];
}
