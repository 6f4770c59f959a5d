;; The activation side of the quantized matmuls: inp (T, I) f32 quantized per block of 32 to
;; 8-bit integers the way ggml quantizes activations for its integer dot products (block_q8_0:
;; d = amax / 127, q = round(x / d)), so that a block of weights meets a block of activations in
;; i32x4.dot_i16x8_s instead of being widened to f32. The quants are stored already widened to
;; i16 (the operand dot_i16x8_s takes), with each block's scale and the sum of its quants beside:
;;   xq (T I / 32, 32) i16, xd (T I / 32) f32 = d, xs (T I / 32) i32 = sum of q (for Q4_K's mins).
;; Rows follow each other, so with I a multiple of 32 the T rows are one run of T I / 32 blocks.
;; The cost is one pass over inp per matmul (I floats a token), against O I weights.
;; (quantize-rows-q8-i8.wat stores the same quants as i8 in element order, for the relaxed-SIMD
;; Q4_0 kernel.)
;;
;; Within a block the 32 quants are stored as four i16x8 vectors in the order the weight kernels
;; unpack their blocks most cheaply: X0 = elements 0, 2, .., 14; X1 = 1, 3, .., 15; X2 = 16, 18,
;; .., 30; X3 = 17, 19, .., 31. Seen as i16 lanes, 16 packed bytes (8 bits, or two nibbles each)
;; split into even and odd elements with shifts and masks alone, where keeping elements in order
;; takes the i8 -> i16 extends (two instructions on x64 for the high half) and, for nibbles, an
;; i8x16 shift (which x64 lacks and V8 emulates). The dot product does not care about the order
;; as long as weights and activations agree. Measured on the 32000 x 288 head (Node 20): Q4_0
;; 0.78 -> 0.50 ms, Q8_0 0.57 -> 0.55 ms.
;;
;; Rounding is to nearest even (f32x4.nearest), where ggml's roundf takes halves away from zero:
;; a half-way activation is rare and either way the error is half a step; the kernels are tested
;; against dequantized weights times unquantized activations, not against ggml's bits.
(module
  (import "env" "memory" (memory 0))

  ;; xq, xd, xs = blocks 0 .. n-1 of inp quantized; inp holds 32 n floats
  (func (export "quantizeRowsQ8") (param $xq i32) (param $xd i32) (param $xs i32) (param $inp i32) (param $n i32)
    (local $end i32) (local $m v128) (local $amax f32) (local $id v128) (local $s v128)
    (local $x0 v128) (local $x1 v128) (local $x2 v128) (local $x3 v128)
    (local $x4 v128) (local $x5 v128) (local $x6 v128) (local $x7 v128)
    (local $q0 v128) (local $q1 v128) (local $e0 v128) (local $e1 v128)
    (local.set $end (i32.add (local.get $xd) (i32.shl (local.get $n) (i32.const 2))))
    (block $done
      (loop $block
        (br_if $done (i32.ge_u (local.get $xd) (local.get $end)))
        (local.set $x0 (v128.load offset=0 (local.get $inp)))
        (local.set $x1 (v128.load offset=16 (local.get $inp)))
        (local.set $x2 (v128.load offset=32 (local.get $inp)))
        (local.set $x3 (v128.load offset=48 (local.get $inp)))
        (local.set $x4 (v128.load offset=64 (local.get $inp)))
        (local.set $x5 (v128.load offset=80 (local.get $inp)))
        (local.set $x6 (v128.load offset=96 (local.get $inp)))
        (local.set $x7 (v128.load offset=112 (local.get $inp)))
        ;; amax over the 32
        (local.set $m
          (f32x4.max
            (f32x4.max (f32x4.max (f32x4.abs (local.get $x0)) (f32x4.abs (local.get $x1)))
                       (f32x4.max (f32x4.abs (local.get $x2)) (f32x4.abs (local.get $x3))))
            (f32x4.max (f32x4.max (f32x4.abs (local.get $x4)) (f32x4.abs (local.get $x5)))
                       (f32x4.max (f32x4.abs (local.get $x6)) (f32x4.abs (local.get $x7))))))
        (local.set $amax
          (f32.max
            (f32.max (f32x4.extract_lane 0 (local.get $m)) (f32x4.extract_lane 1 (local.get $m)))
            (f32.max (f32x4.extract_lane 2 (local.get $m)) (f32x4.extract_lane 3 (local.get $m)))))
        ;; d = amax / 127; a block of (nearly) zeros gets q = 0 (127 / amax would overflow below 1e-37)
        (f32.store (local.get $xd) (f32.div (local.get $amax) (f32.const 127)))
        (local.set $id
          (f32x4.splat
            (select (f32.div (f32.const 127) (local.get $amax)) (f32.const 0) (f32.gt (local.get $amax) (f32.const 1e-30)))))
        ;; q = round(x * 127 / amax), 8 at a time narrowed to i16: $e0 elements 0..7, $e1 8..15
        (local.set $q0 (i32x4.trunc_sat_f32x4_s (f32x4.nearest (f32x4.mul (local.get $x0) (local.get $id)))))
        (local.set $q1 (i32x4.trunc_sat_f32x4_s (f32x4.nearest (f32x4.mul (local.get $x1) (local.get $id)))))
        (local.set $s (i32x4.add (local.get $q0) (local.get $q1)))
        (local.set $e0 (i16x8.narrow_i32x4_s (local.get $q0) (local.get $q1)))
        (local.set $q0 (i32x4.trunc_sat_f32x4_s (f32x4.nearest (f32x4.mul (local.get $x2) (local.get $id)))))
        (local.set $q1 (i32x4.trunc_sat_f32x4_s (f32x4.nearest (f32x4.mul (local.get $x3) (local.get $id)))))
        (local.set $s (i32x4.add (local.get $s) (i32x4.add (local.get $q0) (local.get $q1))))
        (local.set $e1 (i16x8.narrow_i32x4_s (local.get $q0) (local.get $q1)))
        ;; X0 = the even elements of 0..15, X1 the odd ones
        (v128.store offset=0 (local.get $xq)
          (i8x16.shuffle 0 1 4 5 8 9 12 13 16 17 20 21 24 25 28 29 (local.get $e0) (local.get $e1)))
        (v128.store offset=16 (local.get $xq)
          (i8x16.shuffle 2 3 6 7 10 11 14 15 18 19 22 23 26 27 30 31 (local.get $e0) (local.get $e1)))
        (local.set $q0 (i32x4.trunc_sat_f32x4_s (f32x4.nearest (f32x4.mul (local.get $x4) (local.get $id)))))
        (local.set $q1 (i32x4.trunc_sat_f32x4_s (f32x4.nearest (f32x4.mul (local.get $x5) (local.get $id)))))
        (local.set $s (i32x4.add (local.get $s) (i32x4.add (local.get $q0) (local.get $q1))))
        (local.set $e0 (i16x8.narrow_i32x4_s (local.get $q0) (local.get $q1)))
        (local.set $q0 (i32x4.trunc_sat_f32x4_s (f32x4.nearest (f32x4.mul (local.get $x6) (local.get $id)))))
        (local.set $q1 (i32x4.trunc_sat_f32x4_s (f32x4.nearest (f32x4.mul (local.get $x7) (local.get $id)))))
        (local.set $s (i32x4.add (local.get $s) (i32x4.add (local.get $q0) (local.get $q1))))
        (local.set $e1 (i16x8.narrow_i32x4_s (local.get $q0) (local.get $q1)))
        ;; X2, X3 the same for elements 16..31
        (v128.store offset=32 (local.get $xq)
          (i8x16.shuffle 0 1 4 5 8 9 12 13 16 17 20 21 24 25 28 29 (local.get $e0) (local.get $e1)))
        (v128.store offset=48 (local.get $xq)
          (i8x16.shuffle 2 3 6 7 10 11 14 15 18 19 22 23 26 27 30 31 (local.get $e0) (local.get $e1)))
        (i32.store (local.get $xs)
          (i32.add
            (i32.add (i32x4.extract_lane 0 (local.get $s)) (i32x4.extract_lane 1 (local.get $s)))
            (i32.add (i32x4.extract_lane 2 (local.get $s)) (i32x4.extract_lane 3 (local.get $s)))))
        (local.set $inp (i32.add (local.get $inp) (i32.const 128)))
        (local.set $xq (i32.add (local.get $xq) (i32.const 64)))
        (local.set $xd (i32.add (local.get $xd) (i32.const 4)))
        (local.set $xs (i32.add (local.get $xs) (i32.const 4)))
        (br $block))))
)
