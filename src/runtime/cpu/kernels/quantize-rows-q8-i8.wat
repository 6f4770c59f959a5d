;; quantizeRowsQ8 (quantize-rows-q8.wat, whose notes apply) with the quants stored as i8 in
;; element order, 32 bytes a block: the operand the relaxed-SIMD kernels (matmul-q4-0-relaxed.wat)
;; take in i16x8.relaxed_dot_i8x16_i7x16_s. The same q, d and sums as quantizeRowsQ8, bit for bit
;; (the same operations up to the stores), so either layout gives a kernel the same integers.
;;   xq (T I / 32, 32) i8, xd (T I / 32) f32 = d, xs (T I / 32) i32 = sum of q.
(module
  (import "env" "memory" (memory 0))

  ;; xq, xd, xs = blocks 0 .. n-1 of inp quantized; inp holds 32 n floats
  (func (export "quantizeRowsQ8i8") (param $xq i32) (param $xd i32) (param $xs i32) (param $inp i32) (param $n i32)
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
        (f32.store (local.get $xd) (f32.div (local.get $amax) (f32.const 127)))
        (local.set $id
          (f32x4.splat
            (select (f32.div (f32.const 127) (local.get $amax)) (f32.const 0) (f32.gt (local.get $amax) (f32.const 1e-30)))))
        ;; q = round(x * 127 / amax) in -127..127, narrowed twice: i32 -> i16 -> i8 is exact
        (local.set $q0 (i32x4.trunc_sat_f32x4_s (f32x4.nearest (f32x4.mul (local.get $x0) (local.get $id)))))
        (local.set $q1 (i32x4.trunc_sat_f32x4_s (f32x4.nearest (f32x4.mul (local.get $x1) (local.get $id)))))
        (local.set $s (i32x4.add (local.get $q0) (local.get $q1)))
        (local.set $e0 (i16x8.narrow_i32x4_s (local.get $q0) (local.get $q1)))
        (local.set $q0 (i32x4.trunc_sat_f32x4_s (f32x4.nearest (f32x4.mul (local.get $x2) (local.get $id)))))
        (local.set $q1 (i32x4.trunc_sat_f32x4_s (f32x4.nearest (f32x4.mul (local.get $x3) (local.get $id)))))
        (local.set $s (i32x4.add (local.get $s) (i32x4.add (local.get $q0) (local.get $q1))))
        (local.set $e1 (i16x8.narrow_i32x4_s (local.get $q0) (local.get $q1)))
        (v128.store offset=0 (local.get $xq) (i8x16.narrow_i16x8_s (local.get $e0) (local.get $e1)))
        (local.set $q0 (i32x4.trunc_sat_f32x4_s (f32x4.nearest (f32x4.mul (local.get $x4) (local.get $id)))))
        (local.set $q1 (i32x4.trunc_sat_f32x4_s (f32x4.nearest (f32x4.mul (local.get $x5) (local.get $id)))))
        (local.set $s (i32x4.add (local.get $s) (i32x4.add (local.get $q0) (local.get $q1))))
        (local.set $e0 (i16x8.narrow_i32x4_s (local.get $q0) (local.get $q1)))
        (local.set $q0 (i32x4.trunc_sat_f32x4_s (f32x4.nearest (f32x4.mul (local.get $x6) (local.get $id)))))
        (local.set $q1 (i32x4.trunc_sat_f32x4_s (f32x4.nearest (f32x4.mul (local.get $x7) (local.get $id)))))
        (local.set $s (i32x4.add (local.get $s) (i32x4.add (local.get $q0) (local.get $q1))))
        (local.set $e1 (i16x8.narrow_i32x4_s (local.get $q0) (local.get $q1)))
        (v128.store offset=16 (local.get $xq) (i8x16.narrow_i16x8_s (local.get $e0) (local.get $e1)))
        (i32.store (local.get $xs)
          (i32.add
            (i32.add (i32x4.extract_lane 0 (local.get $s)) (i32x4.extract_lane 1 (local.get $s)))
            (i32.add (i32x4.extract_lane 2 (local.get $s)) (i32x4.extract_lane 3 (local.get $s)))))
        (local.set $inp (i32.add (local.get $inp) (i32.const 128)))
        (local.set $xq (i32.add (local.get $xq) (i32.const 32)))
        (local.set $xd (i32.add (local.get $xd) (i32.const 4)))
        (local.set $xs (i32.add (local.get $xs) (i32.const 4)))
        (br $block))))
)
