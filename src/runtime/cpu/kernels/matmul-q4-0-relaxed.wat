;; matmulQ4_0 (matmul-q4-0.wat, whose notes and loops apply) for engines with WebAssembly relaxed
;; SIMD, against activations quantized to i8 in element order (quantize-rows-q8-i8.wat). A block's
;; 16 bytes split into low nibbles (elements 0..15) with one and, and high ones (16..31) with a
;; shift and an and; each half meets its 16 activations in i16x8.relaxed_dot_i8x16_i7x16_s (16
;; multiplies, pairs summed to i16: pmaddubsw on x64), the halves are added as i16 and widened
;; pairwise to i32 by i32x4.dot_i16x8_s against ones (pmaddwd): 4 instructions a row and block
;; where matmul-q4-0.wat takes 4 dot_i16x8_s, 3 adds and 3 shifts.
;;
;; Exact, the same integers as matmul-q4-0.wat on every engine: the nibbles 0..15 are the i7
;; operand (0..127, whose top bit engines may read either way), so a product is at most 15 x 127
;; in magnitude, a pair 3810 and the two halves' sum 7620, far from i16 saturation. Lane k of a
;; row's i32 sum holds elements 4k..4k+3 and 16+4k..16+4k+3, the lanes of matmul-q4-0.wat's
;; even/odd split, so even $dot's per-lane float sums see the same integers; from there every f32
;; operation is matmul-q4-0.wat's in the same order, and the outputs are its bits (tested against
;; it at T 1, 5 and 64).
(module
  (import "env" "memory" (memory 0))

  ;; dots of four weight rows $w, $w + $rb, $w + 2 $rb, $w + 3 $rb ($nb blocks each, $rb bytes
  ;; apart) with one quantized activation row ($xq, $xd, $xs): the four results as lanes
  (func $dot4 (param $w i32) (param $rb i32) (param $xq i32) (param $xd i32) (param $xs i32) (param $nb i32) (result v128)
    (local $end i32) (local $w0 i32) (local $w1 i32) (local $w2 i32) (local $w3 i32)
    (local $acc v128) (local $v v128) (local $m v128) (local $one v128) (local $d v128)
    (local $x0 v128) (local $x1 v128)
    (local $p0 v128) (local $p1 v128) (local $p2 v128) (local $p3 v128)
    (local.set $end (i32.add (local.get $xd) (i32.shl (local.get $nb) (i32.const 2))))
    (local.set $w0 (local.get $w))
    (local.set $w1 (i32.add (local.get $w0) (local.get $rb)))
    (local.set $w2 (i32.add (local.get $w1) (local.get $rb)))
    (local.set $w3 (i32.add (local.get $w2) (local.get $rb)))
    ;; the masks in registers: V8 rebuilds a v128.const at every use inside a loop
    (local.set $m (v128.const i8x16 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15))
    (local.set $one (v128.const i16x8 1 1 1 1 1 1 1 1))
    (block $done
      (loop $block
        (br_if $done (i32.ge_u (local.get $xd) (local.get $end)))
        (local.set $x0 (v128.load offset=0 (local.get $xq)))
        (local.set $x1 (v128.load offset=16 (local.get $xq)))
        ;; row r: lane k = the sum of q x over elements 4k..4k+3 and 16+4k..16+4k+3; rows folded
        ;; into lanes as matmul-q4-0.wat does
        (local.set $v (v128.load offset=2 (local.get $w0)))
        (local.set $p0 (i32x4.dot_i16x8_s
          (i16x8.add
            (i16x8.relaxed_dot_i8x16_i7x16_s (local.get $x0) (v128.and (local.get $v) (local.get $m)))
            (i16x8.relaxed_dot_i8x16_i7x16_s (local.get $x1) (v128.and (i16x8.shr_u (local.get $v) (i32.const 4)) (local.get $m))))
          (local.get $one)))
        (local.set $v (v128.load offset=2 (local.get $w1)))
        (local.set $p1 (i32x4.dot_i16x8_s
          (i16x8.add
            (i16x8.relaxed_dot_i8x16_i7x16_s (local.get $x0) (v128.and (local.get $v) (local.get $m)))
            (i16x8.relaxed_dot_i8x16_i7x16_s (local.get $x1) (v128.and (i16x8.shr_u (local.get $v) (i32.const 4)) (local.get $m))))
          (local.get $one)))
        (local.set $p0 (i32x4.add
          (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $p0) (local.get $p1))
          (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $p0) (local.get $p1))))
        (local.set $v (v128.load offset=2 (local.get $w2)))
        (local.set $p2 (i32x4.dot_i16x8_s
          (i16x8.add
            (i16x8.relaxed_dot_i8x16_i7x16_s (local.get $x0) (v128.and (local.get $v) (local.get $m)))
            (i16x8.relaxed_dot_i8x16_i7x16_s (local.get $x1) (v128.and (i16x8.shr_u (local.get $v) (i32.const 4)) (local.get $m))))
          (local.get $one)))
        (local.set $v (v128.load offset=2 (local.get $w3)))
        (local.set $p3 (i32x4.dot_i16x8_s
          (i16x8.add
            (i16x8.relaxed_dot_i8x16_i7x16_s (local.get $x0) (v128.and (local.get $v) (local.get $m)))
            (i16x8.relaxed_dot_i8x16_i7x16_s (local.get $x1) (v128.and (i16x8.shr_u (local.get $v) (i32.const 4)) (local.get $m))))
          (local.get $one)))
        (local.set $p2 (i32x4.add
          (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $p2) (local.get $p3))
          (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $p2) (local.get $p3))))
        (local.set $p0 (i32x4.add
          (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $p0) (local.get $p2))
          (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $p0) (local.get $p2))))
        ;; from here on matmul-q4-0.wat's $dot4, operation for operation
        (local.set $p0 (i32x4.sub (local.get $p0) (i32x4.splat (i32.shl (i32.load (local.get $xs)) (i32.const 3)))))
        (local.set $d (i32x4.splat (i32.load16_s (local.get $w0))))
        (local.set $d (i32x4.replace_lane 1 (local.get $d) (i32.load16_s (local.get $w1))))
        (local.set $d (i32x4.replace_lane 2 (local.get $d) (i32.load16_s (local.get $w2))))
        (local.set $d (i32x4.replace_lane 3 (local.get $d) (i32.load16_s (local.get $w3))))
        (local.set $d (v128.and (i32x4.shl (local.get $d) (i32.const 13)) (v128.const i32x4 0x8fffe000 0x8fffe000 0x8fffe000 0x8fffe000)))
        (local.set $acc
          (f32x4.add (local.get $acc)
            (f32x4.mul (f32x4.convert_i32x4_s (local.get $p0))
              (f32x4.mul (local.get $d) (f32x4.splat (f32.mul (f32.load (local.get $xd)) (f32.const 0x1p112)))))))
        (local.set $w0 (i32.add (local.get $w0) (i32.const 18)))
        (local.set $w1 (i32.add (local.get $w1) (i32.const 18)))
        (local.set $w2 (i32.add (local.get $w2) (i32.const 18)))
        (local.set $w3 (i32.add (local.get $w3) (i32.const 18)))
        (local.set $xq (i32.add (local.get $xq) (i32.const 32)))
        (local.set $xd (i32.add (local.get $xd) (i32.const 4)))
        (local.set $xs (i32.add (local.get $xs) (i32.const 4)))
        (br $block)))
    (local.get $acc))

  ;; $dot4 for two tokens: the activation rows ($xq, $xd, $xs) and the next one ($nb blocks on),
  ;; out0 + bias and out1 + bias stored at $out and $out + $os; each weight block split once for both
  (func $dot4x2 (param $w i32) (param $rb i32) (param $xq i32) (param $xd i32) (param $xs i32) (param $nb i32)
    (param $out i32) (param $os i32) (param $b4 v128)
    (local $end i32) (local $w0 i32) (local $w1 i32) (local $w2 i32) (local $w3 i32) (local $yq i32) (local $yo i32)
    (local $acca v128) (local $accb v128) (local $v v128) (local $lo v128) (local $hi v128) (local $m v128) (local $one v128) (local $d v128)
    (local $pa0 v128) (local $pa1 v128) (local $pa2 v128) (local $pa3 v128)
    (local $pb0 v128) (local $pb1 v128) (local $pb2 v128) (local $pb3 v128)
    (local $x0 v128) (local $x1 v128) (local $y0 v128) (local $y1 v128)
    (local.set $end (i32.add (local.get $xd) (i32.shl (local.get $nb) (i32.const 2))))
    (local.set $yo (i32.shl (local.get $nb) (i32.const 2)))
    (local.set $yq (i32.add (local.get $xq) (i32.shl (local.get $nb) (i32.const 5))))
    (local.set $w0 (local.get $w))
    (local.set $w1 (i32.add (local.get $w0) (local.get $rb)))
    (local.set $w2 (i32.add (local.get $w1) (local.get $rb)))
    (local.set $w3 (i32.add (local.get $w2) (local.get $rb)))
    ;; the masks in registers: V8 rebuilds a v128.const at every use inside a loop
    (local.set $m (v128.const i8x16 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15))
    (local.set $one (v128.const i16x8 1 1 1 1 1 1 1 1))
    (block $done
      (loop $block
        (br_if $done (i32.ge_u (local.get $xd) (local.get $end)))
        (local.set $x0 (v128.load offset=0 (local.get $xq)))
        (local.set $x1 (v128.load offset=16 (local.get $xq)))
        (local.set $y0 (v128.load offset=0 (local.get $yq)))
        (local.set $y1 (v128.load offset=16 (local.get $yq)))
        (local.set $v (v128.load offset=2 (local.get $w0)))
        (local.set $lo (v128.and (local.get $v) (local.get $m)))
        (local.set $hi (v128.and (i16x8.shr_u (local.get $v) (i32.const 4)) (local.get $m)))
        (local.set $pa0 (i32x4.dot_i16x8_s
          (i16x8.add (i16x8.relaxed_dot_i8x16_i7x16_s (local.get $x0) (local.get $lo)) (i16x8.relaxed_dot_i8x16_i7x16_s (local.get $x1) (local.get $hi)))
          (local.get $one)))
        (local.set $pb0 (i32x4.dot_i16x8_s
          (i16x8.add (i16x8.relaxed_dot_i8x16_i7x16_s (local.get $y0) (local.get $lo)) (i16x8.relaxed_dot_i8x16_i7x16_s (local.get $y1) (local.get $hi)))
          (local.get $one)))
        (local.set $v (v128.load offset=2 (local.get $w1)))
        (local.set $lo (v128.and (local.get $v) (local.get $m)))
        (local.set $hi (v128.and (i16x8.shr_u (local.get $v) (i32.const 4)) (local.get $m)))
        (local.set $pa1 (i32x4.dot_i16x8_s
          (i16x8.add (i16x8.relaxed_dot_i8x16_i7x16_s (local.get $x0) (local.get $lo)) (i16x8.relaxed_dot_i8x16_i7x16_s (local.get $x1) (local.get $hi)))
          (local.get $one)))
        (local.set $pb1 (i32x4.dot_i16x8_s
          (i16x8.add (i16x8.relaxed_dot_i8x16_i7x16_s (local.get $y0) (local.get $lo)) (i16x8.relaxed_dot_i8x16_i7x16_s (local.get $y1) (local.get $hi)))
          (local.get $one)))
        (local.set $pa0 (i32x4.add
          (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $pa0) (local.get $pa1))
          (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $pa0) (local.get $pa1))))
        (local.set $pb0 (i32x4.add
          (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $pb0) (local.get $pb1))
          (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $pb0) (local.get $pb1))))
        (local.set $v (v128.load offset=2 (local.get $w2)))
        (local.set $lo (v128.and (local.get $v) (local.get $m)))
        (local.set $hi (v128.and (i16x8.shr_u (local.get $v) (i32.const 4)) (local.get $m)))
        (local.set $pa2 (i32x4.dot_i16x8_s
          (i16x8.add (i16x8.relaxed_dot_i8x16_i7x16_s (local.get $x0) (local.get $lo)) (i16x8.relaxed_dot_i8x16_i7x16_s (local.get $x1) (local.get $hi)))
          (local.get $one)))
        (local.set $pb2 (i32x4.dot_i16x8_s
          (i16x8.add (i16x8.relaxed_dot_i8x16_i7x16_s (local.get $y0) (local.get $lo)) (i16x8.relaxed_dot_i8x16_i7x16_s (local.get $y1) (local.get $hi)))
          (local.get $one)))
        (local.set $v (v128.load offset=2 (local.get $w3)))
        (local.set $lo (v128.and (local.get $v) (local.get $m)))
        (local.set $hi (v128.and (i16x8.shr_u (local.get $v) (i32.const 4)) (local.get $m)))
        (local.set $pa3 (i32x4.dot_i16x8_s
          (i16x8.add (i16x8.relaxed_dot_i8x16_i7x16_s (local.get $x0) (local.get $lo)) (i16x8.relaxed_dot_i8x16_i7x16_s (local.get $x1) (local.get $hi)))
          (local.get $one)))
        (local.set $pb3 (i32x4.dot_i16x8_s
          (i16x8.add (i16x8.relaxed_dot_i8x16_i7x16_s (local.get $y0) (local.get $lo)) (i16x8.relaxed_dot_i8x16_i7x16_s (local.get $y1) (local.get $hi)))
          (local.get $one)))
        (local.set $pa2 (i32x4.add
          (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $pa2) (local.get $pa3))
          (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $pa2) (local.get $pa3))))
        (local.set $pb2 (i32x4.add
          (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $pb2) (local.get $pb3))
          (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $pb2) (local.get $pb3))))
        (local.set $pa0 (i32x4.add
          (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $pa0) (local.get $pa2))
          (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $pa0) (local.get $pa2))))
        (local.set $pb0 (i32x4.add
          (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $pb0) (local.get $pb2))
          (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $pb0) (local.get $pb2))))
        ;; from here on matmul-q4-0.wat's $dot4x2, operation for operation
        (local.set $pa0 (i32x4.sub (local.get $pa0) (i32x4.splat (i32.shl (i32.load (local.get $xs)) (i32.const 3)))))
        (local.set $pb0 (i32x4.sub (local.get $pb0) (i32x4.splat (i32.shl (i32.load (i32.add (local.get $xs) (local.get $yo))) (i32.const 3)))))
        (local.set $d (i32x4.splat (i32.load16_s (local.get $w0))))
        (local.set $d (i32x4.replace_lane 1 (local.get $d) (i32.load16_s (local.get $w1))))
        (local.set $d (i32x4.replace_lane 2 (local.get $d) (i32.load16_s (local.get $w2))))
        (local.set $d (i32x4.replace_lane 3 (local.get $d) (i32.load16_s (local.get $w3))))
        (local.set $d (v128.and (i32x4.shl (local.get $d) (i32.const 13)) (v128.const i32x4 0x8fffe000 0x8fffe000 0x8fffe000 0x8fffe000)))
        (local.set $acca
          (f32x4.add (local.get $acca)
            (f32x4.mul (f32x4.convert_i32x4_s (local.get $pa0))
              (f32x4.mul (local.get $d) (f32x4.splat (f32.mul (f32.load (local.get $xd)) (f32.const 0x1p112)))))))
        (local.set $accb
          (f32x4.add (local.get $accb)
            (f32x4.mul (f32x4.convert_i32x4_s (local.get $pb0))
              (f32x4.mul (local.get $d) (f32x4.splat (f32.mul (f32.load (i32.add (local.get $xd) (local.get $yo))) (f32.const 0x1p112)))))))
        (local.set $w0 (i32.add (local.get $w0) (i32.const 18)))
        (local.set $w1 (i32.add (local.get $w1) (i32.const 18)))
        (local.set $w2 (i32.add (local.get $w2) (i32.const 18)))
        (local.set $w3 (i32.add (local.get $w3) (i32.const 18)))
        (local.set $xq (i32.add (local.get $xq) (i32.const 32)))
        (local.set $yq (i32.add (local.get $yq) (i32.const 32)))
        (local.set $xd (i32.add (local.get $xd) (i32.const 4)))
        (local.set $xs (i32.add (local.get $xs) (i32.const 4)))
        (br $block)))
    (v128.store (local.get $out) (f32x4.add (local.get $acca) (local.get $b4)))
    (v128.store (i32.add (local.get $out) (local.get $os)) (f32x4.add (local.get $accb) (local.get $b4))))

  ;; dot of one weight row (the rows past a multiple of 4) $w ($nb blocks) with one quantized activation row ($xq, $xd, $xs)
  (func $dot (param $w i32) (param $xq i32) (param $xd i32) (param $xs i32) (param $nb i32) (result f32)
    (local $end i32) (local $acc v128) (local $p v128) (local $v v128) (local $m v128) (local $one v128)
    (local.set $end (i32.add (local.get $xd) (i32.shl (local.get $nb) (i32.const 2))))
    ;; the masks in registers: V8 rebuilds a v128.const at every use inside a loop
    (local.set $m (v128.const i8x16 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15))
    (local.set $one (v128.const i16x8 1 1 1 1 1 1 1 1))
    (block $done
      (loop $block
        (br_if $done (i32.ge_u (local.get $xd) (local.get $end)))
        (local.set $v (v128.load offset=2 (local.get $w)))
        (local.set $p (i32x4.dot_i16x8_s
          (i16x8.add
            (i16x8.relaxed_dot_i8x16_i7x16_s (v128.load offset=0 (local.get $xq)) (v128.and (local.get $v) (local.get $m)))
            (i16x8.relaxed_dot_i8x16_i7x16_s (v128.load offset=16 (local.get $xq)) (v128.and (i16x8.shr_u (local.get $v) (i32.const 4)) (local.get $m))))
          (local.get $one)))
        ;; from here on matmul-q4-0.wat's $dot, operation for operation
        (local.set $p (i32x4.sub (local.get $p) (i32x4.splat (i32.shl (i32.load (local.get $xs)) (i32.const 1)))))
        (local.set $acc
          (f32x4.add (local.get $acc)
            (f32x4.mul (f32x4.convert_i32x4_s (local.get $p))
              (f32x4.splat
                (f32.mul
                  (f32.mul
                    (f32.reinterpret_i32 (i32.and (i32.shl (i32.load16_s (local.get $w)) (i32.const 13)) (i32.const 0x8fffe000)))
                    (f32.const 0x1p112))
                  (f32.load (local.get $xd)))))))
        (local.set $w (i32.add (local.get $w) (i32.const 18)))
        (local.set $xq (i32.add (local.get $xq) (i32.const 32)))
        (local.set $xd (i32.add (local.get $xd) (i32.const 4)))
        (local.set $xs (i32.add (local.get $xs) (i32.const 4)))
        (br $block)))
    (f32.add
      (f32.add (f32x4.extract_lane 0 (local.get $acc)) (f32x4.extract_lane 1 (local.get $acc)))
      (f32.add (f32x4.extract_lane 2 (local.get $acc)) (f32x4.extract_lane 3 (local.get $acc)))))

  ;; The loops from here on are matmul-q4-0.wat's, with 32 bytes of activations a block, not 64.
  ;; matmulQ4_0 for T >= 2: tokens two at a time ($dot4x2), an odd last one alone ($dot4)
  (func $matmulPairs (param $out i32) (param $xq i32) (param $xd i32) (param $xs i32) (param $w i32) (param $bias i32)
    (param $T i32) (param $I i32) (param $O i32)
    (local $nb i32) (local $rb i32) (local $o i32) (local $t i32) (local $b f32) (local $b4 v128) (local $at i32)
    (local.set $nb (i32.shr_u (local.get $I) (i32.const 5)))
    (local.set $rb (i32.mul (local.get $nb) (i32.const 18)))
    ;; rows in fours
    (block $foursDone
      (loop $four
        (br_if $foursDone (i32.gt_u (i32.add (local.get $o) (i32.const 4)) (local.get $O)))
        (local.set $b4
          (if (result v128) (local.get $bias)
            (then (v128.load (i32.add (local.get $bias) (i32.shl (local.get $o) (i32.const 2)))))
            (else (v128.const i32x4 0 0 0 0))))
        (local.set $t (i32.const 0))
        ;; tokens two at a time, then the last one if T is odd
        (block $pairsDone
          (loop $pair
            (br_if $pairsDone (i32.gt_u (i32.add (local.get $t) (i32.const 2)) (local.get $T)))
            (local.set $at (i32.mul (local.get $t) (local.get $nb)))
            (call $dot4x2 (local.get $w) (local.get $rb)
              (i32.add (local.get $xq) (i32.shl (local.get $at) (i32.const 5)))
              (i32.add (local.get $xd) (i32.shl (local.get $at) (i32.const 2)))
              (i32.add (local.get $xs) (i32.shl (local.get $at) (i32.const 2)))
              (local.get $nb)
              (i32.add (local.get $out) (i32.shl (i32.add (i32.mul (local.get $t) (local.get $O)) (local.get $o)) (i32.const 2)))
              (i32.shl (local.get $O) (i32.const 2))
              (local.get $b4))
            (local.set $t (i32.add (local.get $t) (i32.const 2)))
            (br $pair)))
        (block $tokensDone
          (loop $token
            (br_if $tokensDone (i32.ge_u (local.get $t) (local.get $T)))
            (local.set $at (i32.mul (local.get $t) (local.get $nb)))
            (v128.store
              (i32.add (local.get $out) (i32.shl (i32.add (i32.mul (local.get $t) (local.get $O)) (local.get $o)) (i32.const 2)))
              (f32x4.add
                (call $dot4 (local.get $w) (local.get $rb)
                  (i32.add (local.get $xq) (i32.shl (local.get $at) (i32.const 5)))
                  (i32.add (local.get $xd) (i32.shl (local.get $at) (i32.const 2)))
                  (i32.add (local.get $xs) (i32.shl (local.get $at) (i32.const 2)))
                  (local.get $nb))
                (local.get $b4)))
            (local.set $t (i32.add (local.get $t) (i32.const 1)))
            (br $token)))
        (local.set $w (i32.add (local.get $w) (i32.shl (local.get $rb) (i32.const 2))))
        (local.set $o (i32.add (local.get $o) (i32.const 4)))
        (br $four)))
    ;; the last O mod 4 rows one at a time
    (block $rowsDone
      (loop $row
        (br_if $rowsDone (i32.ge_u (local.get $o) (local.get $O)))
        (local.set $b
          (if (result f32) (local.get $bias)
            (then (f32.load (i32.add (local.get $bias) (i32.shl (local.get $o) (i32.const 2)))))
            (else (f32.const 0))))
        (local.set $t (i32.const 0))
        (block $tokensDone
          (loop $token
            (br_if $tokensDone (i32.ge_u (local.get $t) (local.get $T)))
            (local.set $at (i32.mul (local.get $t) (local.get $nb)))
            (f32.store
              (i32.add (local.get $out) (i32.shl (i32.add (i32.mul (local.get $t) (local.get $O)) (local.get $o)) (i32.const 2)))
              (f32.add
                (call $dot (local.get $w)
                  (i32.add (local.get $xq) (i32.shl (local.get $at) (i32.const 5)))
                  (i32.add (local.get $xd) (i32.shl (local.get $at) (i32.const 2)))
                  (i32.add (local.get $xs) (i32.shl (local.get $at) (i32.const 2)))
                  (local.get $nb))
                (local.get $b)))
            (local.set $t (i32.add (local.get $t) (i32.const 1)))
            (br $token)))
        (local.set $w (i32.add (local.get $w) (local.get $rb)))
        (local.set $o (i32.add (local.get $o) (i32.const 1)))
        (br $row))))

  ;; out (T, O) = (xq, xd) (T, I) @ w^T + bias. Weight rows outermost and in memory order, four
  ;; at a time, so the weights stream once per call whatever T is and each group of rows is reused
  ;; from L1 by every token. A row's outputs for a token are computed by the same f32 operations
  ;; in the same order ($dot4, $dot4x2 or $dot for the last O mod 4) whatever T is, so a token's
  ;; outputs do not depend on how many tokens shared the call.
  (func (export "matmulQ4_0") (param $out i32) (param $xq i32) (param $xd i32) (param $xs i32) (param $w i32) (param $bias i32)
    (param $T i32) (param $I i32) (param $O i32)
    (local $nb i32) (local $rb i32) (local $o i32) (local $t i32) (local $b f32) (local $b4 v128) (local $at i32)
    (if (i32.ge_u (local.get $T) (i32.const 2))
      (then
        (call $matmulPairs (local.get $out) (local.get $xq) (local.get $xd) (local.get $xs) (local.get $w) (local.get $bias) (local.get $T) (local.get $I) (local.get $O))
        (return)))
    (local.set $nb (i32.shr_u (local.get $I) (i32.const 5)))
    (local.set $rb (i32.mul (local.get $nb) (i32.const 18)))
    ;; rows in fours
    (block $foursDone
      (loop $four
        (br_if $foursDone (i32.gt_u (i32.add (local.get $o) (i32.const 4)) (local.get $O)))
        (local.set $b4
          (if (result v128) (local.get $bias)
            (then (v128.load (i32.add (local.get $bias) (i32.shl (local.get $o) (i32.const 2)))))
            (else (v128.const i32x4 0 0 0 0))))
        (local.set $t (i32.const 0))
        (block $tokensDone
          (loop $token
            (br_if $tokensDone (i32.ge_u (local.get $t) (local.get $T)))
            (local.set $at (i32.mul (local.get $t) (local.get $nb)))
            (v128.store
              (i32.add (local.get $out) (i32.shl (i32.add (i32.mul (local.get $t) (local.get $O)) (local.get $o)) (i32.const 2)))
              (f32x4.add
                (call $dot4 (local.get $w) (local.get $rb)
                  (i32.add (local.get $xq) (i32.shl (local.get $at) (i32.const 5)))
                  (i32.add (local.get $xd) (i32.shl (local.get $at) (i32.const 2)))
                  (i32.add (local.get $xs) (i32.shl (local.get $at) (i32.const 2)))
                  (local.get $nb))
                (local.get $b4)))
            (local.set $t (i32.add (local.get $t) (i32.const 1)))
            (br $token)))
        (local.set $w (i32.add (local.get $w) (i32.shl (local.get $rb) (i32.const 2))))
        (local.set $o (i32.add (local.get $o) (i32.const 4)))
        (br $four)))
    ;; the last O mod 4 rows one at a time
    (block $rowsDone
      (loop $row
        (br_if $rowsDone (i32.ge_u (local.get $o) (local.get $O)))
        (local.set $b
          (if (result f32) (local.get $bias)
            (then (f32.load (i32.add (local.get $bias) (i32.shl (local.get $o) (i32.const 2)))))
            (else (f32.const 0))))
        (local.set $t (i32.const 0))
        (block $tokensDone
          (loop $token
            (br_if $tokensDone (i32.ge_u (local.get $t) (local.get $T)))
            (local.set $at (i32.mul (local.get $t) (local.get $nb)))
            (f32.store
              (i32.add (local.get $out) (i32.shl (i32.add (i32.mul (local.get $t) (local.get $O)) (local.get $o)) (i32.const 2)))
              (f32.add
                (call $dot (local.get $w)
                  (i32.add (local.get $xq) (i32.shl (local.get $at) (i32.const 5)))
                  (i32.add (local.get $xd) (i32.shl (local.get $at) (i32.const 2)))
                  (i32.add (local.get $xs) (i32.shl (local.get $at) (i32.const 2)))
                  (local.get $nb))
                (local.get $b)))
            (local.set $t (i32.add (local.get $t) (i32.const 1)))
            (br $token)))
        (local.set $w (i32.add (local.get $w) (local.get $rb)))
        (local.set $o (i32.add (local.get $o) (i32.const 1)))
        (br $row))))
)
