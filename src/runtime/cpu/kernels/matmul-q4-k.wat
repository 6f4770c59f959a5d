;; out (T, O) = inp (T, I) @ w^T + bias (O) for w (O, I) in Q4_K super-blocks of 256 (144 bytes:
;; f16 d, f16 dmin, 12 bytes of 6-bit sub-block scales sc and mins m, 128 bytes of 4-bit q; see
;; src/runtime/quant/quantize.ts), x = d sc q - dmin m per sub-block of 32, against activations
;; quantized per block of 32 by quantizeRowsQ8 (quantize-rows-q8.wat; its block order X0..X3 is
;; what the nibbles split into). A sub-block of weights lines up with a block of activations, so
;;   sum x_w x_a = d sc dx sum q qx - dmin m dx sum qx,
;; the first sum in i32x4.dot_i16x8_s, the second from the activation block's stored sum (xs).
;; As matmul-q8-0.wat otherwise (its notes apply).
;;
;; Measured (Node 20, one thread, best of 12, 32000 x 768, 13.8 MB): 2.3 ms, Q8_0 on the same
;; shape 1.8 ms (26 MB): bound by arithmetic like the others (see matmul-q4-0.wat).
(module
  (import "env" "memory" (memory 0))

  ;; dot of one weight row $w ($ns super-blocks) with one quantized activation row ($xq, $xd, $xs)
  (func $dot (param $w i32) (param $xq i32) (param $xd i32) (param $xs i32) (param $ns i32) (result f32)
    (local $end i32) (local $acc v128) (local $mins f32) (local $d f32) (local $dmin f32)
    (local $c i32) (local $j i32) (local $sc i32) (local $q i32) (local $m v128) (local $v0 v128) (local $v1 v128) (local $p v128)
    (local $scA i32) (local $mA i32) (local $scB i32) (local $mB i32)
    (local.set $m (v128.const i16x8 15 15 15 15 15 15 15 15))
    (local.set $end (i32.add (local.get $w) (i32.mul (local.get $ns) (i32.const 144))))
    (block $done
      (loop $super
        (br_if $done (i32.ge_u (local.get $w) (local.get $end)))
        ;; d and dmin, f16 as in matmul.wat: (h << 13) & 0x8fffe000 times 2^112
        (local.set $d (f32.mul (f32.reinterpret_i32 (i32.and (i32.shl (i32.load16_s (local.get $w)) (i32.const 13)) (i32.const 0x8fffe000))) (f32.const 0x1p112)))
        (local.set $dmin (f32.mul (f32.reinterpret_i32 (i32.and (i32.shl (i32.load16_s offset=2 (local.get $w)) (i32.const 13)) (i32.const 0x8fffe000))) (f32.const 0x1p112)))
        (local.set $sc (i32.add (local.get $w) (i32.const 4)))
        (local.set $q (i32.add (local.get $w) (i32.const 16)))
        ;; 4 chunks of 32 bytes: sub-block 2c in the low nibbles, 2c + 1 in the high ones
        (local.set $c (i32.const 0))
        (loop $chunk
          (local.set $j (i32.shl (local.get $c) (i32.const 1)))
          ;; the scales and mins of sub-blocks j and j + 1 (ggml's get_scale_min_k4)
          (if (i32.lt_u (local.get $c) (i32.const 2))
            (then
              (local.set $scA (i32.and (i32.load8_u (i32.add (local.get $sc) (local.get $j))) (i32.const 63)))
              (local.set $mA (i32.and (i32.load8_u offset=4 (i32.add (local.get $sc) (local.get $j))) (i32.const 63)))
              (local.set $scB (i32.and (i32.load8_u offset=1 (i32.add (local.get $sc) (local.get $j))) (i32.const 63)))
              (local.set $mB (i32.and (i32.load8_u offset=5 (i32.add (local.get $sc) (local.get $j))) (i32.const 63))))
            (else
              ;; j >= 4: low 4 bits in byte j + 4, high 2 in the top of bytes j - 4 (scale) and j (min)
              (local.set $scA (i32.or (i32.and (i32.load8_u offset=4 (i32.add (local.get $sc) (local.get $j))) (i32.const 15))
                (i32.shl (i32.shr_u (i32.load8_u (i32.sub (i32.add (local.get $sc) (local.get $j)) (i32.const 4))) (i32.const 6)) (i32.const 4))))
              (local.set $mA (i32.or (i32.shr_u (i32.load8_u offset=4 (i32.add (local.get $sc) (local.get $j))) (i32.const 4))
                (i32.shl (i32.shr_u (i32.load8_u (i32.add (local.get $sc) (local.get $j))) (i32.const 6)) (i32.const 4))))
              (local.set $scB (i32.or (i32.and (i32.load8_u offset=5 (i32.add (local.get $sc) (local.get $j))) (i32.const 15))
                (i32.shl (i32.shr_u (i32.load8_u (i32.sub (i32.add (local.get $sc) (local.get $j)) (i32.const 3))) (i32.const 6)) (i32.const 4))))
              (local.set $mB (i32.or (i32.shr_u (i32.load8_u offset=5 (i32.add (local.get $sc) (local.get $j))) (i32.const 4))
                (i32.shl (i32.shr_u (i32.load8_u offset=1 (i32.add (local.get $sc) (local.get $j))) (i32.const 6)) (i32.const 4))))))
          ;; as i16 lanes k, bytes 0..15 hold elements 2k (bits 0-3) and 2k + 1 (8-11) of sub-block
          ;; j, the same of sub-block j + 1 in bits 4-7 and 12-15; bytes 16..31 the elements 16..31
          (local.set $v0 (v128.load (local.get $q)))
          (local.set $v1 (v128.load offset=16 (local.get $q)))
          (local.set $p (i32x4.dot_i16x8_s (v128.and (local.get $v0) (local.get $m)) (v128.load offset=0 (local.get $xq))))
          (local.set $p (i32x4.add (local.get $p) (i32x4.dot_i16x8_s (v128.and (i16x8.shr_u (local.get $v0) (i32.const 8)) (local.get $m)) (v128.load offset=16 (local.get $xq)))))
          (local.set $p (i32x4.add (local.get $p) (i32x4.dot_i16x8_s (v128.and (local.get $v1) (local.get $m)) (v128.load offset=32 (local.get $xq)))))
          (local.set $p (i32x4.add (local.get $p) (i32x4.dot_i16x8_s (v128.and (i16x8.shr_u (local.get $v1) (i32.const 8)) (local.get $m)) (v128.load offset=48 (local.get $xq)))))
          (local.set $acc (f32x4.add (local.get $acc)
            (f32x4.mul (f32x4.convert_i32x4_s (local.get $p))
              (f32x4.splat (f32.mul (f32.mul (local.get $d) (f32.convert_i32_u (local.get $scA))) (f32.load (local.get $xd)))))))
          (local.set $mins (f32.add (local.get $mins)
            (f32.mul (f32.mul (f32.convert_i32_u (local.get $mA)) (f32.load (local.get $xd))) (f32.convert_i32_s (i32.load (local.get $xs))))))
          (local.set $p (i32x4.dot_i16x8_s (v128.and (i16x8.shr_u (local.get $v0) (i32.const 4)) (local.get $m)) (v128.load offset=64 (local.get $xq))))
          (local.set $p (i32x4.add (local.get $p) (i32x4.dot_i16x8_s (i16x8.shr_u (local.get $v0) (i32.const 12)) (v128.load offset=80 (local.get $xq)))))
          (local.set $p (i32x4.add (local.get $p) (i32x4.dot_i16x8_s (v128.and (i16x8.shr_u (local.get $v1) (i32.const 4)) (local.get $m)) (v128.load offset=96 (local.get $xq)))))
          (local.set $p (i32x4.add (local.get $p) (i32x4.dot_i16x8_s (i16x8.shr_u (local.get $v1) (i32.const 12)) (v128.load offset=112 (local.get $xq)))))
          (local.set $acc (f32x4.add (local.get $acc)
            (f32x4.mul (f32x4.convert_i32x4_s (local.get $p))
              (f32x4.splat (f32.mul (f32.mul (local.get $d) (f32.convert_i32_u (local.get $scB))) (f32.load offset=4 (local.get $xd)))))))
          (local.set $mins (f32.add (local.get $mins)
            (f32.mul (f32.mul (f32.convert_i32_u (local.get $mB)) (f32.load offset=4 (local.get $xd))) (f32.convert_i32_s (i32.load offset=4 (local.get $xs))))))
          (local.set $q (i32.add (local.get $q) (i32.const 32)))
          (local.set $xq (i32.add (local.get $xq) (i32.const 128)))
          (local.set $xd (i32.add (local.get $xd) (i32.const 8)))
          (local.set $xs (i32.add (local.get $xs) (i32.const 8)))
          (local.set $c (i32.add (local.get $c) (i32.const 1)))
          (br_if $chunk (i32.lt_u (local.get $c) (i32.const 4))))
        ;; the mins of this super-block, all scaled by its dmin
        (local.set $acc (f32x4.sub (local.get $acc) (f32x4.replace_lane 0 (v128.const f32x4 0 0 0 0) (f32.mul (local.get $dmin) (local.get $mins)))))
        (local.set $mins (f32.const 0))
        (local.set $w (i32.add (local.get $w) (i32.const 144)))
        (br $super)))
    (f32.add
      (f32.add (f32x4.extract_lane 0 (local.get $acc)) (f32x4.extract_lane 1 (local.get $acc)))
      (f32.add (f32x4.extract_lane 2 (local.get $acc)) (f32x4.extract_lane 3 (local.get $acc)))))

  ;; out (T, O) = (xq, xd, xs) (T, I) @ w^T + bias; the loops of matmul-q8-0.wat
  (func (export "matmulQ4_K") (param $out i32) (param $xq i32) (param $xd i32) (param $xs i32) (param $w i32) (param $bias i32)
    (param $T i32) (param $I i32) (param $O i32)
    (local $nb i32) (local $o i32) (local $t i32) (local $b f32)
    (local.set $nb (i32.shr_u (local.get $I) (i32.const 5)))
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
            (f32.store
              (i32.add (local.get $out) (i32.shl (i32.add (i32.mul (local.get $t) (local.get $O)) (local.get $o)) (i32.const 2)))
              (f32.add
                (call $dot (local.get $w)
                  (i32.add (local.get $xq) (i32.shl (i32.mul (local.get $t) (local.get $I)) (i32.const 1)))
                  (i32.add (local.get $xd) (i32.shl (i32.mul (local.get $t) (local.get $nb)) (i32.const 2)))
                  (i32.add (local.get $xs) (i32.shl (i32.mul (local.get $t) (local.get $nb)) (i32.const 2)))
                  (i32.shr_u (local.get $I) (i32.const 8)))
                (local.get $b)))
            (local.set $t (i32.add (local.get $t) (i32.const 1)))
            (br $token)))
        (local.set $w (i32.add (local.get $w) (i32.mul (i32.shr_u (local.get $I) (i32.const 8)) (i32.const 144))))
        (local.set $o (i32.add (local.get $o) (i32.const 1)))
        (br $row))))
)
