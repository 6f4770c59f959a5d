;; out (T, O) = inp (T, I) @ w^T + bias (O) for w (O, I) in Q8_0 blocks (34 bytes: f16 d, 32 i8 q),
;; the rows of w one after the other as a GGUF file stores them. The activations come quantized
;; per block of 32 by quantizeRowsQ8 (quantize-rows-q8.wat: xq i16, xd f32 scales); a block of
;; weights and a block of activations meet in integer dot products:
;;   sum_j w_j x_j ~ dw dx sum_j qw_j qx_j,  qw_j in -128..127, qx_j in -127..127,
;; 4 x i32x4.dot_i16x8_s per 32 weights, one float multiply-add per block.
;;
;; Measured against widening the weights to f32 and multiplying f32 activations (the kernel that
;; keeps inp exact: i8 -> i16 -> i32 -> f32 is 3 conversions per 4 weights), Node 20, one thread,
;; best of 12 runs on a shared 2-core machine, on the 15M bench Llama's 32000 x 288 head (9.8 MB
;; of Q8_0): integer dot products 0.57 ms (activation quantization included), f32 widening
;; 1.13 ms; the f32 weights take 2.2 ms (37 MB). The activation rounding (half a step of
;; amax / 127 per block) costs ~0.2% of sum |w x| per output; test/runtime/cpu/cpu-quant*.test.ts
;; hold it to a bound.
;;
;; Row by row on purpose: the four-row scheme of matmul-q4-0.wat, applied here, was slower (reading
;; four rows 612 bytes apart from beyond the caches cost more than the per-block work it saves;
;; measured in ARCHITECTURE.md "Quantized weights").
;;
;; The same dot function serves every token, so a token's outputs do not depend on how many
;; tokens shared the call (prefill then decode reproduce scores exactly). Pointers are byte
;; offsets into the imported memory; bias 0 means none.
(module
  (import "env" "memory" (memory 0))

  ;; dot of one weight row $w ($nb blocks) with one quantized activation row ($xq, $xd)
  (func $dot (param $w i32) (param $xq i32) (param $xd i32) (param $nb i32) (result f32)
    (local $end i32) (local $acc v128) (local $p v128) (local $v v128)
    (local.set $end (i32.add (local.get $xd) (i32.shl (local.get $nb) (i32.const 2))))
    (block $done
      (loop $block
        (br_if $done (i32.ge_u (local.get $xd) (local.get $end)))
        ;; bytes 0..15 as i16 lanes: sign-extended low bytes are the even elements (X0), high
        ;; bytes the odd ones (X1); bytes 16..31 likewise (X2, X3)
        (local.set $v (v128.load offset=2 (local.get $w)))
        (local.set $p (i32x4.dot_i16x8_s (i16x8.shr_s (i16x8.shl (local.get $v) (i32.const 8)) (i32.const 8)) (v128.load offset=0 (local.get $xq))))
        (local.set $p (i32x4.add (local.get $p) (i32x4.dot_i16x8_s (i16x8.shr_s (local.get $v) (i32.const 8)) (v128.load offset=16 (local.get $xq)))))
        (local.set $v (v128.load offset=18 (local.get $w)))
        (local.set $p (i32x4.add (local.get $p) (i32x4.dot_i16x8_s (i16x8.shr_s (i16x8.shl (local.get $v) (i32.const 8)) (i32.const 8)) (v128.load offset=32 (local.get $xq)))))
        (local.set $p (i32x4.add (local.get $p) (i32x4.dot_i16x8_s (i16x8.shr_s (local.get $v) (i32.const 8)) (v128.load offset=48 (local.get $xq)))))
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
        (local.set $w (i32.add (local.get $w) (i32.const 34)))
        (local.set $xq (i32.add (local.get $xq) (i32.const 64)))
        (local.set $xd (i32.add (local.get $xd) (i32.const 4)))
        (br $block)))
    (f32.add
      (f32.add (f32x4.extract_lane 0 (local.get $acc)) (f32x4.extract_lane 1 (local.get $acc)))
      (f32.add (f32x4.extract_lane 2 (local.get $acc)) (f32x4.extract_lane 3 (local.get $acc)))))

  ;; out (T, O) = (xq, xd) (T, I) @ w^T + bias. Weight rows outermost and in memory order, so the
  ;; weights stream once per call whatever T is, and each row is reused from L1 by every token.
  ;; $xs (the quants' sums) is unused here; every quantized kernel takes the same arguments.
  (func (export "matmulQ8_0") (param $out i32) (param $xq i32) (param $xd i32) (param $xs i32) (param $w i32) (param $bias i32)
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
                  (local.get $nb))
                (local.get $b)))
            (local.set $t (i32.add (local.get $t) (i32.const 1)))
            (br $token)))
        (local.set $w (i32.add (local.get $w) (i32.mul (local.get $nb) (i32.const 34))))
        (local.set $o (i32.add (local.get $o) (i32.const 1)))
        (br $row))))
)
