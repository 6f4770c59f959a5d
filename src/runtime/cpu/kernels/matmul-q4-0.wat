;; out (T, O) = inp (T, I) @ w^T + bias (O) for w (O, I) in Q4_0 blocks (18 bytes: f16 d, then 16
;; bytes whose low nibbles are elements 0..15 and high nibbles 16..31; x = d (q - 8)), against
;; activations quantized per block of 32 by quantizeRowsQ8 (quantize-rows-q8.wat). As
;; matmul-q8-0.wat, whose notes apply; the nibbles are split with one and, one shift and a
;; subtraction of 8 per 16 weights, and then meet the activations in i32x4.dot_i16x8_s.
;;
;; Measured (Node 20, one thread, best of 12, 32000 x 288, 5.2 MB): 0.68 ms, against 0.57 ms for
;; Q8_0 (9.8 MB) and 2.2 ms for f32 (37 MB). Both are bound by their arithmetic, not by memory,
;; once the weights are this small, and a Q4_0 block costs a few more instructions than a Q8_0 one
;; (the nibble masks and the -8 taken off through the block sum): halving the bytes again does
;; not pay here. Splitting the nibbles in i8 lanes (i8x16.shr_u, which x64 lacks) and subtracting
;; 8 before widening was slower still: 0.78 ms.
(module
  (import "env" "memory" (memory 0))

  ;; dot of one weight row $w ($nb blocks) with one quantized activation row ($xq, $xd, $xs)
  (func $dot (param $w i32) (param $xq i32) (param $xd i32) (param $xs i32) (param $nb i32) (result f32)
    (local $end i32) (local $acc v128) (local $p v128) (local $v v128) (local $m v128)
    (local.set $end (i32.add (local.get $xd) (i32.shl (local.get $nb) (i32.const 2))))
    ;; the nibble mask in a register: V8 rebuilds a v128.const at every use inside a loop
    (local.set $m (v128.const i16x8 15 15 15 15 15 15 15 15))
    (block $done
      (loop $block
        (br_if $done (i32.ge_u (local.get $xd) (local.get $end)))
        ;; the 16 bytes as i16 lanes k hold elements 2k (bits 0-3), 2k + 16 (4-7), 2k + 1 (8-11) and
        ;; 2k + 17 (12-15): X0, X2, X1, X3 of the activation block. Unsigned q in 0..15 here; the
        ;; -8 is taken off the sum: sum (q - 8) x = sum q x - 8 sum x, 2 sum x from each lane.
        (local.set $v (v128.load offset=2 (local.get $w)))
        (local.set $p (i32x4.dot_i16x8_s (v128.and (local.get $v) (local.get $m)) (v128.load offset=0 (local.get $xq))))
        (local.set $p (i32x4.add (local.get $p) (i32x4.dot_i16x8_s (v128.and (i16x8.shr_u (local.get $v) (i32.const 8)) (local.get $m)) (v128.load offset=16 (local.get $xq)))))
        (local.set $p (i32x4.add (local.get $p) (i32x4.dot_i16x8_s (v128.and (i16x8.shr_u (local.get $v) (i32.const 4)) (local.get $m)) (v128.load offset=32 (local.get $xq)))))
        (local.set $p (i32x4.add (local.get $p) (i32x4.dot_i16x8_s (i16x8.shr_u (local.get $v) (i32.const 12)) (v128.load offset=48 (local.get $xq)))))
        (local.set $p (i32x4.sub (local.get $p) (i32x4.splat (i32.shl (i32.load (local.get $xs)) (i32.const 1)))))
        ;; acc += p * dw * dx; dw is f16: (h << 13) & 0x8fffe000 times 2^112 (see matmul.wat)
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
        (local.set $xq (i32.add (local.get $xq) (i32.const 64)))
        (local.set $xd (i32.add (local.get $xd) (i32.const 4)))
        (local.set $xs (i32.add (local.get $xs) (i32.const 4)))
        (br $block)))
    (f32.add
      (f32.add (f32x4.extract_lane 0 (local.get $acc)) (f32x4.extract_lane 1 (local.get $acc)))
      (f32.add (f32x4.extract_lane 2 (local.get $acc)) (f32x4.extract_lane 3 (local.get $acc)))))

  ;; out (T, O) = (xq, xd) (T, I) @ w^T + bias. Weight rows outermost and in memory order, so the
  ;; weights stream once per call whatever T is, and each row is reused from L1 by every token.
  (func (export "matmulQ4_0") (param $out i32) (param $xq i32) (param $xd i32) (param $xs i32) (param $w i32) (param $bias i32)
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
                  (local.get $nb))
                (local.get $b)))
            (local.set $t (i32.add (local.get $t) (i32.const 1)))
            (br $token)))
        (local.set $w (i32.add (local.get $w) (i32.mul (local.get $nb) (i32.const 18))))
        (local.set $o (i32.add (local.get $o) (i32.const 1)))
        (br $row))))
)
