;; out (T, O) = inp (T, I) @ w^T + bias (O), w (O, I) row-major (nn.Linear layout), in
;; WebAssembly SIMD. The same contract as matmulForward in ../ops.ts, which is its reference.
;; "matmul16", at the end, is the same for weights stored as bf16 or f16.
;;
;; Every pointer is a byte offset into the imported memory, where the CPU backend keeps all its
;; weights and activations (wasm-arena.ts). Offset 0 is never handed out, so bias = 0 means "no
;; bias". `out` must not overlap `inp`. Rows need no alignment: I need not be a multiple of 4, and
;; v128.load works at any address (the align immediate is a hint).
;;
;; Accumulation is in f32 (the TS reference sums in f64); over I = 768 the difference is a few
;; units in the last place, well inside the 1e-5 relative the tests allow.
;;
;; Why the shapes of the loops:
;; - T = 1 (decode) is a matvec and memory bound: every weight is used once. Weight rows are read
;;   one after the other in memory order (see $matvec for the measurement that chose this over
;;   several rows sharing the input loads).
;; - T > 1 (prefill) runs blocks of 4 token rows against pairs of weight rows: 4 + 2 loads feed
;;   8 multiply-adds. Weight rows are the outer loop, so the weights come from memory once per
;;   call whatever T is. Tokens left over (T mod 4) go through the matvec.
;; - Every output is summed in the same order whichever loop computes it: one f32x4 accumulator
;;   over the groups of 4 in order, lanes summed (l0 + l1) + (l2 + l3), then the I mod 4 tail,
;;   then the bias. So a token's result is bit for bit the same in a prefill block and in a decode
;;   step: scoring a continuation after a rewind reproduces the first score exactly.
(module
  (import "env" "memory" (memory 0))

  ;; the sum of the four lanes of $v
  (func $hsum (param $v v128) (result f32)
    (f32.add
      (f32.add (f32x4.extract_lane 0 (local.get $v)) (f32x4.extract_lane 1 (local.get $v)))
      (f32.add (f32x4.extract_lane 2 (local.get $v)) (f32x4.extract_lane 3 (local.get $v)))))

  ;; bias[o], or 0 when there is no bias ($bias = 0)
  (func $biasAt (param $bias i32) (param $o i32) (result f32)
    (if (result f32) (local.get $bias)
      (then (f32.load (i32.add (local.get $bias) (i32.shl (local.get $o) (i32.const 2)))))
      (else (f32.const 0))))

  ;; scalar dot product of w and x over bytes $i .. $end (both rows start at their own base): the
  ;; 0-3 elements past the last multiple of 4
  (func $dotTail (param $w i32) (param $x i32) (param $i i32) (param $end i32) (result f32)
    (local $s f32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $s
          (f32.add (local.get $s)
            (f32.mul
              (f32.load (i32.add (local.get $w) (local.get $i)))
              (f32.load (i32.add (local.get $x) (local.get $i))))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $next)))
    (local.get $s))

;; dot product of one weight row $w (I) with $x (I); $nb = 4 I bytes. One f32x4 accumulator
  ;; taking the groups of 4 in order: the order $matmulBlocks sums in, so a token's outputs do not
  ;; depend on how many tokens shared the call (see "Why the shapes of the loops" above).
  (func $dot (param $w i32) (param $x i32) (param $nb i32) (result f32)
    (local $i i32) (local $end16 i32) (local $end4 i32) (local $a v128)
    (local.set $end16 (i32.and (local.get $nb) (i32.const -64)))
    (local.set $end4 (i32.and (local.get $nb) (i32.const -16)))
    ;; 16 floats (one 64-byte cache line) a step; the multiplies are independent, only the adds
    ;; chain, and at 1 add per 16 bytes that chain still outruns memory (see $matvec)
    (block $exit
      (br_if $exit (i32.ge_u (local.get $i) (local.get $end16)))
      (loop $step
        (local.set $a
          (f32x4.add (local.get $a)
            (f32x4.mul
              (v128.load (i32.add (local.get $w) (local.get $i)))
              (v128.load (i32.add (local.get $x) (local.get $i))))))
        (local.set $a
          (f32x4.add (local.get $a)
            (f32x4.mul
              (v128.load offset=16 (i32.add (local.get $w) (local.get $i)))
              (v128.load offset=16 (i32.add (local.get $x) (local.get $i))))))
        (local.set $a
          (f32x4.add (local.get $a)
            (f32x4.mul
              (v128.load offset=32 (i32.add (local.get $w) (local.get $i)))
              (v128.load offset=32 (i32.add (local.get $x) (local.get $i))))))
        (local.set $a
          (f32x4.add (local.get $a)
            (f32x4.mul
              (v128.load offset=48 (i32.add (local.get $w) (local.get $i)))
              (v128.load offset=48 (i32.add (local.get $x) (local.get $i))))))
        (local.set $i (i32.add (local.get $i) (i32.const 64)))
        (br_if $step (i32.lt_u (local.get $i) (local.get $end16)))))
    ;; the remaining groups of 4 (I mod 16 = 4, 8 or 12 floats)
    (block $exit4
      (loop $step4
        (br_if $exit4 (i32.ge_u (local.get $i) (local.get $end4)))
        (local.set $a
          (f32x4.add (local.get $a)
            (f32x4.mul
              (v128.load (i32.add (local.get $w) (local.get $i)))
              (v128.load (i32.add (local.get $x) (local.get $i))))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $step4)))
    (f32.add
      (call $hsum (local.get $a))
      (call $dotTail (local.get $w) (local.get $x) (local.get $i) (local.get $nb))))

  ;; out (O) = w (O, I) @ x (I) + bias: one token row, one weight row after the other. Rows are
  ;; taken in memory order so the weights stream strictly sequentially. Measured (CPU time, Node 20,
  ;; AMD EPYC, 32 MB L3) on the 32000 x 288 head, 37 MB from DRAM: one row at a time 13-14 GB/s,
  ;; 4 rows at a time sharing each input load 10 GB/s (4 interleaved 1152-byte streams defeat the
  ;; hardware prefetcher), a plain SIMD sum over the same bytes 13.5 GB/s. For weights that fit
  ;; in cache the 4-row form is faster, but a decode step of a model worth a CPU backend (the 15M
  ;; bench model is 60 MB) streams every weight from DRAM.
  (func $matvec (param $out i32) (param $x i32) (param $w i32) (param $bias i32) (param $I i32) (param $O i32)
    (local $nb i32) (local $o i32)
    (local.set $nb (i32.shl (local.get $I) (i32.const 2)))
    (block $done
      (loop $row
        (br_if $done (i32.ge_u (local.get $o) (local.get $O)))
        (f32.store
          (i32.add (local.get $out) (i32.shl (local.get $o) (i32.const 2)))
          (f32.add
            (call $dot (local.get $w) (local.get $x) (local.get $nb))
            (call $biasAt (local.get $bias) (local.get $o))))
        (local.set $w (i32.add (local.get $w) (local.get $nb)))
        (local.set $o (i32.add (local.get $o) (i32.const 1)))
        (br $row))))

  ;; out[t, o] and out[t, o + 1] for the T4 token rows (T4 a multiple of 4) = inp (T4, I) against
  ;; the weight rows $r0 and $r1 (I) + their biases: blocks of 4 token rows against the pair, 4 + 2
  ;; loads feeding 8 multiply-adds. The 2 weight rows are read from memory once and reused from L1
  ;; by every block; the T4 input rows (64 x 768 floats, 196 KB at most for our chunk size) stay
  ;; in L2.
  (func $rowPair (param $out i32) (param $x i32) (param $r0 i32) (param $r1 i32) (param $b0 f32) (param $b1 f32)
    (param $o i32) (param $nb i32) (param $ob i32) (param $T4 i32)
    (local $end4 i32) (local $i i32) (local $t i32) (local $p i32) (local $q i32)
    ;; x rows of the 4 tokens at byte $i, and the 2 weight rows
    (local $xa v128) (local $xb v128) (local $xc v128) (local $xd v128) (local $w0 v128) (local $w1 v128)
    ;; accumulators: $sTR for token T (a-d) of the block and weight row o + R (0-1)
    (local $sa0 v128) (local $sb0 v128) (local $sc0 v128) (local $sd0 v128)
    (local $sa1 v128) (local $sb1 v128) (local $sc1 v128) (local $sd1 v128)
    (local.set $end4 (i32.and (local.get $nb) (i32.const -16)))
    (local.set $t (i32.const 0))
    (loop $blocks
      (local.set $sa0 (v128.const i32x4 0 0 0 0))
      (local.set $sb0 (v128.const i32x4 0 0 0 0))
      (local.set $sc0 (v128.const i32x4 0 0 0 0))
      (local.set $sd0 (v128.const i32x4 0 0 0 0))
      (local.set $sa1 (v128.const i32x4 0 0 0 0))
      (local.set $sb1 (v128.const i32x4 0 0 0 0))
      (local.set $sc1 (v128.const i32x4 0 0 0 0))
      (local.set $sd1 (v128.const i32x4 0 0 0 0))
      ;; $q: token row t of inp
      (local.set $q (i32.add (local.get $x) (i32.mul (local.get $t) (local.get $nb))))
      (local.set $i (i32.const 0))

      ;; 4 floats a step: 4 input loads and 2 weight loads feed 8 multiply-adds
      (block $exit
        (br_if $exit (i32.ge_u (local.get $i) (local.get $end4)))
        (loop $step
          (local.set $p (i32.add (local.get $q) (local.get $i)))
          (local.set $xa (v128.load (local.get $p)))
          (local.set $p (i32.add (local.get $p) (local.get $nb)))
          (local.set $xb (v128.load (local.get $p)))
          (local.set $p (i32.add (local.get $p) (local.get $nb)))
          (local.set $xc (v128.load (local.get $p)))
          (local.set $p (i32.add (local.get $p) (local.get $nb)))
          (local.set $xd (v128.load (local.get $p)))
          (local.set $w0 (v128.load (i32.add (local.get $r0) (local.get $i))))
          (local.set $w1 (v128.load (i32.add (local.get $r1) (local.get $i))))
          (local.set $sa0 (f32x4.add (local.get $sa0) (f32x4.mul (local.get $xa) (local.get $w0))))
          (local.set $sb0 (f32x4.add (local.get $sb0) (f32x4.mul (local.get $xb) (local.get $w0))))
          (local.set $sc0 (f32x4.add (local.get $sc0) (f32x4.mul (local.get $xc) (local.get $w0))))
          (local.set $sd0 (f32x4.add (local.get $sd0) (f32x4.mul (local.get $xd) (local.get $w0))))
          (local.set $sa1 (f32x4.add (local.get $sa1) (f32x4.mul (local.get $xa) (local.get $w1))))
          (local.set $sb1 (f32x4.add (local.get $sb1) (f32x4.mul (local.get $xb) (local.get $w1))))
          (local.set $sc1 (f32x4.add (local.get $sc1) (f32x4.mul (local.get $xc) (local.get $w1))))
          (local.set $sd1 (f32x4.add (local.get $sd1) (f32x4.mul (local.get $xd) (local.get $w1))))
          (local.set $i (i32.add (local.get $i) (i32.const 16)))
          (br_if $step (i32.lt_u (local.get $i) (local.get $end4)))))

      ;; out[t + k, o + r] = lanes summed + the scalar tail + bias; $p walks the 4 output rows
      ;; (O floats apart) and $q the 4 input rows
      (local.set $p (i32.add (local.get $out) (i32.add (i32.mul (local.get $t) (local.get $ob)) (i32.shl (local.get $o) (i32.const 2)))))
      (f32.store (local.get $p) (f32.add (f32.add (call $hsum (local.get $sa0)) (call $dotTail (local.get $r0) (local.get $q) (local.get $i) (local.get $nb))) (local.get $b0)))
      (f32.store offset=4 (local.get $p) (f32.add (f32.add (call $hsum (local.get $sa1)) (call $dotTail (local.get $r1) (local.get $q) (local.get $i) (local.get $nb))) (local.get $b1)))
      (local.set $p (i32.add (local.get $p) (local.get $ob)))
      (local.set $q (i32.add (local.get $q) (local.get $nb)))
      (f32.store (local.get $p) (f32.add (f32.add (call $hsum (local.get $sb0)) (call $dotTail (local.get $r0) (local.get $q) (local.get $i) (local.get $nb))) (local.get $b0)))
      (f32.store offset=4 (local.get $p) (f32.add (f32.add (call $hsum (local.get $sb1)) (call $dotTail (local.get $r1) (local.get $q) (local.get $i) (local.get $nb))) (local.get $b1)))
      (local.set $p (i32.add (local.get $p) (local.get $ob)))
      (local.set $q (i32.add (local.get $q) (local.get $nb)))
      (f32.store (local.get $p) (f32.add (f32.add (call $hsum (local.get $sc0)) (call $dotTail (local.get $r0) (local.get $q) (local.get $i) (local.get $nb))) (local.get $b0)))
      (f32.store offset=4 (local.get $p) (f32.add (f32.add (call $hsum (local.get $sc1)) (call $dotTail (local.get $r1) (local.get $q) (local.get $i) (local.get $nb))) (local.get $b1)))
      (local.set $p (i32.add (local.get $p) (local.get $ob)))
      (local.set $q (i32.add (local.get $q) (local.get $nb)))
      (f32.store (local.get $p) (f32.add (f32.add (call $hsum (local.get $sd0)) (call $dotTail (local.get $r0) (local.get $q) (local.get $i) (local.get $nb))) (local.get $b0)))
      (f32.store offset=4 (local.get $p) (f32.add (f32.add (call $hsum (local.get $sd1)) (call $dotTail (local.get $r1) (local.get $q) (local.get $i) (local.get $nb))) (local.get $b1)))

      (local.set $t (i32.add (local.get $t) (i32.const 4)))
      (br_if $blocks (i32.lt_u (local.get $t) (local.get $T4))))

)

  ;; out[t, o] for the T token rows = inp (T, I) . the weight row $r0 (I) + $b0: one dot product
  ;; per token (the last row when O is odd, or the tokens past the last block of 4)
  (func $rowAll (param $out i32) (param $x i32) (param $r0 i32) (param $b0 f32) (param $o i32) (param $nb i32) (param $ob i32) (param $t i32) (param $T i32)
    (block $done
      (loop $token
        (br_if $done (i32.ge_u (local.get $t) (local.get $T)))
        (f32.store
          (i32.add (local.get $out) (i32.add (i32.mul (local.get $t) (local.get $ob)) (i32.shl (local.get $o) (i32.const 2))))
          (f32.add
            (call $dot (local.get $r0) (i32.add (local.get $x) (i32.mul (local.get $t) (local.get $nb))) (local.get $nb))
            (local.get $b0)))
        (local.set $t (i32.add (local.get $t) (i32.const 1)))
        (br $token))))

  ;; out (T4, O) = inp (T4, I) @ w^T + bias for T4 a multiple of 4: pairs of weight rows outermost
  ;; ($rowPair), so each weight row comes from memory once per call whatever T is
  (func $matmulBlocks (param $out i32) (param $x i32) (param $w i32) (param $bias i32) (param $I i32) (param $O i32) (param $T4 i32)
    (local $nb i32) (local $ob i32) (local $o i32) (local $O2 i32) (local $r0 i32)
    (local.set $nb (i32.shl (local.get $I) (i32.const 2)))
    (local.set $ob (i32.shl (local.get $O) (i32.const 2)))
    (local.set $O2 (i32.and (local.get $O) (i32.const -2)))
    (block $rowsDone
      (loop $rows
        (br_if $rowsDone (i32.ge_u (local.get $o) (local.get $O2)))
        (local.set $r0 (i32.add (local.get $w) (i32.mul (local.get $o) (local.get $nb))))
        (call $rowPair (local.get $out) (local.get $x) (local.get $r0) (i32.add (local.get $r0) (local.get $nb))
          (call $biasAt (local.get $bias) (local.get $o)) (call $biasAt (local.get $bias) (i32.add (local.get $o) (i32.const 1)))
          (local.get $o) (local.get $nb) (local.get $ob) (local.get $T4))
        (local.set $o (i32.add (local.get $o) (i32.const 2)))
        (br $rows)))
    ;; the last row when O is odd: one dot product per token
    (if (i32.lt_u (local.get $o) (local.get $O))
      (then
        (call $rowAll (local.get $out) (local.get $x) (i32.add (local.get $w) (i32.mul (local.get $o) (local.get $nb)))
          (call $biasAt (local.get $bias) (local.get $o)) (local.get $o) (local.get $nb) (local.get $ob) (i32.const 0) (local.get $T4)))))

  ;; out (T, O) = inp (T, I) @ w^T + bias (O): the token rows in blocks of 4, the last T mod 4 one
  ;; by one as matvecs
  (func (export "matmul") (param $out i32) (param $inp i32) (param $w i32) (param $bias i32) (param $T i32) (param $I i32) (param $O i32)
    (local $t i32)
    (local.set $t (i32.and (local.get $T) (i32.const -4)))
    (if (local.get $t)
      (then (call $matmulBlocks (local.get $out) (local.get $inp) (local.get $w) (local.get $bias) (local.get $I) (local.get $O) (local.get $t))))
    (block $done
      (loop $token
        (br_if $done (i32.ge_u (local.get $t) (local.get $T)))
        (call $matvec
          (i32.add (local.get $out) (i32.shl (i32.mul (local.get $t) (local.get $O)) (i32.const 2)))
          (i32.add (local.get $inp) (i32.shl (i32.mul (local.get $t) (local.get $I)) (i32.const 2)))
          (local.get $w) (local.get $bias) (local.get $I) (local.get $O))
        (local.set $t (i32.add (local.get $t) (i32.const 1)))
        (br $token))))

;; ---- 16-bit weights (bf16, f16) ----
  ;; Weights of a 16-bit checkpoint stay 16-bit in memory (half the bytes a decode step streams)
  ;; and are widened to f32 as they are read; the arithmetic stays f32, in the very order of the
  ;; f32 code above, so "matmul16" gives bit for bit what "matmul" gives on the f32 widening of the
  ;; same weights, and keeps its batch invariance.
  ;; - T < 4 (decode): $dotBf16 / $dotF16 widen in registers. The two types have their own loops
  ;;   with the widening written out and its constants held in locals: V8 (Node 20) does not inline
  ;;   wasm calls, and a call per 4 weights made decode 4x slower; constants rebuilt in the loop
  ;;   cost f16 another 2x.
  ;; - T >= 4 (prefill): a pair of rows is widened into f32 scratch in L1 ($widenRow) and the
  ;;   f32 $rowPair runs on it: the widening is paid once per row, not once per block of tokens.
  ;; Measured (Node 20, one thread, a 32000 x 288 matvec): f32 ~3.0 ms, bf16 ~3.6 ms, f16 ~6 ms.
  ;; Greedy decode of the 15M bench Llama (gpt-run, 128 tokens): bf16 ~145 -> ~175 tok/s, f16
  ;; ~140 -> ~130 tok/s (the f16 widening costs 4 more vector ops per 4 weights), and its arena
  ;; went from 73.6 to 43.2 MB.
  ;;
  ;; Per element h, a sign-extended 16-bit pattern in an i32 lane:
  ;; - bf16 is the high half of an f32: h << 16.
  ;; - f16: (h << 13) & 0x8fffe000 keeps the sign (bit 31, thanks to the sign extension), the 5
  ;;   exponent bits and the 10 mantissa bits in f32 position, under an exponent bias of 127
  ;;   instead of 15; multiplying by 2^112 rebiases it and also turns f16 subnormals (exponent 0)
  ;;   into the right f32 normals (wasm keeps f32 subnormals, no flush to zero). Exponent 31 (inf,
  ;;   NaN) would come out finite (the 2^16 range), so those lanes get the f32 exponent bits ORed
  ;;   back in: inf stays inf, NaN stays NaN.

  ;; 4 f16 patterns (sign-extended, i32x4) as f32x4
  (func $f16x4 (param $h v128) (result v128)
    (v128.or
      (f32x4.mul
        (v128.and (i32x4.shl (local.get $h) (i32.const 13)) (v128.const i32x4 0x8fffe000 0x8fffe000 0x8fffe000 0x8fffe000))
        (v128.const f32x4 0x1p112 0x1p112 0x1p112 0x1p112))
      ;; exponent 31: inf or NaN
      (v128.and
        (i32x4.eq
          (v128.and (local.get $h) (v128.const i32x4 0x7c00 0x7c00 0x7c00 0x7c00))
          (v128.const i32x4 0x7c00 0x7c00 0x7c00 0x7c00))
        (v128.const i32x4 0x7f800000 0x7f800000 0x7f800000 0x7f800000))))

  ;; the 16-bit pattern $h as f32, bf16 or f16 ($f16 = 1)
  (func $half (param $h i32) (param $f16 i32) (result f32)
    (if (result f32) (local.get $f16)
      (then (f32x4.extract_lane 0 (call $f16x4 (i32x4.splat (local.get $h)))))
      (else (f32.reinterpret_i32 (i32.shl (local.get $h) (i32.const 16))))))

  ;; $dotTail for a 16-bit weight row $w: input bytes $i .. $end, the weights at half those offsets
  (func $dotTail16 (param $w i32) (param $x i32) (param $i i32) (param $end i32) (param $f16 i32) (result f32)
    (local $s f32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $s
          (f32.add (local.get $s)
            (f32.mul
              (call $half (i32.load16_s (i32.add (local.get $w) (i32.shr_u (local.get $i) (i32.const 1)))) (local.get $f16))
              (f32.load (i32.add (local.get $x) (local.get $i))))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $next)))
    (local.get $s))

  ;; $dot for a 16-bit weight row $w (I) of bf16, widened in registers; $nb = 4 I bytes of x. The
  ;; same order of additions as $dot on the widened row, so the same result bit for bit.
  (func $dotBf16 (param $w i32) (param $x i32) (param $nb i32) (result f32)
    (local $i i32) (local $end16 i32) (local $end4 i32) (local $a v128) (local $p i32) (local $v v128) (local $h v128)
    (local.set $end16 (i32.and (local.get $nb) (i32.const -64)))
    (local.set $end4 (i32.and (local.get $nb) (i32.const -16)))
    ;; 16 weights (32 bytes) a step, 8 per load
    (block $exit
      (br_if $exit (i32.ge_u (local.get $i) (local.get $end16)))
      (loop $step
        (local.set $p (i32.add (local.get $w) (i32.shr_u (local.get $i) (i32.const 1))))
        (local.set $v (v128.load (local.get $p)))
        (local.set $a
          (f32x4.add (local.get $a)
            (f32x4.mul (i32x4.shl (i32x4.extend_low_i16x8_s (local.get $v)) (i32.const 16))
              (v128.load offset=0 (i32.add (local.get $x) (local.get $i))))))
        (local.set $a
          (f32x4.add (local.get $a)
            (f32x4.mul (i32x4.shl (i32x4.extend_high_i16x8_s (local.get $v)) (i32.const 16))
              (v128.load offset=16 (i32.add (local.get $x) (local.get $i))))))
        (local.set $v (v128.load offset=16 (local.get $p)))
        (local.set $a
          (f32x4.add (local.get $a)
            (f32x4.mul (i32x4.shl (i32x4.extend_low_i16x8_s (local.get $v)) (i32.const 16))
              (v128.load offset=32 (i32.add (local.get $x) (local.get $i))))))
        (local.set $a
          (f32x4.add (local.get $a)
            (f32x4.mul (i32x4.shl (i32x4.extend_high_i16x8_s (local.get $v)) (i32.const 16))
              (v128.load offset=48 (i32.add (local.get $x) (local.get $i))))))
        (local.set $i (i32.add (local.get $i) (i32.const 64)))
        (br_if $step (i32.lt_u (local.get $i) (local.get $end16)))))
    ;; the remaining groups of 4
    (block $exit4
      (loop $step4
        (br_if $exit4 (i32.ge_u (local.get $i) (local.get $end4)))
        (local.set $a
          (f32x4.add (local.get $a)
            (f32x4.mul (i32x4.shl (v128.load16x4_s (i32.add (local.get $w) (i32.shr_u (local.get $i) (i32.const 1)))) (i32.const 16))
              (v128.load offset=0 (i32.add (local.get $x) (local.get $i))))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $step4)))
    (f32.add
      (call $hsum (local.get $a))
      (call $dotTail16 (local.get $w) (local.get $x) (local.get $i) (local.get $nb) (i32.const 0))))

  ;; $dot for a 16-bit weight row $w (I) of f16, widened in registers; $nb = 4 I bytes of x. The
  ;; same order of additions as $dot on the widened row, so the same result bit for bit.
  (func $dotF16 (param $w i32) (param $x i32) (param $nb i32) (result f32)
    (local $i i32) (local $end16 i32) (local $end4 i32) (local $a v128) (local $p i32) (local $v v128) (local $h v128)
    ;; the constants of the widening, kept in registers across the loop
    (local $mag v128) (local $exp v128) (local $inf v128) (local $k v128)
    (local.set $mag (v128.const i32x4 0x8fffe000 0x8fffe000 0x8fffe000 0x8fffe000))
    (local.set $exp (v128.const i32x4 0x7c00 0x7c00 0x7c00 0x7c00))
    (local.set $inf (v128.const i32x4 0x7f800000 0x7f800000 0x7f800000 0x7f800000))
    (local.set $k (v128.const f32x4 0x1p112 0x1p112 0x1p112 0x1p112))
    (local.set $end16 (i32.and (local.get $nb) (i32.const -64)))
    (local.set $end4 (i32.and (local.get $nb) (i32.const -16)))
    ;; 16 weights (32 bytes) a step, 8 per load
    (block $exit
      (br_if $exit (i32.ge_u (local.get $i) (local.get $end16)))
      (loop $step
        (local.set $p (i32.add (local.get $w) (i32.shr_u (local.get $i) (i32.const 1))))
        (local.set $v (v128.load (local.get $p)))
        (local.set $h (i32x4.extend_low_i16x8_s (local.get $v)))
        (local.set $a
          (f32x4.add (local.get $a)
            (f32x4.mul
              (v128.or
              (f32x4.mul (v128.and (i32x4.shl (local.get $h) (i32.const 13)) (local.get $mag)) (local.get $k))
              (v128.and (i32x4.eq (v128.and (local.get $h) (local.get $exp)) (local.get $exp)) (local.get $inf)))
              (v128.load offset=0 (i32.add (local.get $x) (local.get $i))))))
        (local.set $h (i32x4.extend_high_i16x8_s (local.get $v)))
        (local.set $a
          (f32x4.add (local.get $a)
            (f32x4.mul
              (v128.or
              (f32x4.mul (v128.and (i32x4.shl (local.get $h) (i32.const 13)) (local.get $mag)) (local.get $k))
              (v128.and (i32x4.eq (v128.and (local.get $h) (local.get $exp)) (local.get $exp)) (local.get $inf)))
              (v128.load offset=16 (i32.add (local.get $x) (local.get $i))))))
        (local.set $v (v128.load offset=16 (local.get $p)))
        (local.set $h (i32x4.extend_low_i16x8_s (local.get $v)))
        (local.set $a
          (f32x4.add (local.get $a)
            (f32x4.mul
              (v128.or
              (f32x4.mul (v128.and (i32x4.shl (local.get $h) (i32.const 13)) (local.get $mag)) (local.get $k))
              (v128.and (i32x4.eq (v128.and (local.get $h) (local.get $exp)) (local.get $exp)) (local.get $inf)))
              (v128.load offset=32 (i32.add (local.get $x) (local.get $i))))))
        (local.set $h (i32x4.extend_high_i16x8_s (local.get $v)))
        (local.set $a
          (f32x4.add (local.get $a)
            (f32x4.mul
              (v128.or
              (f32x4.mul (v128.and (i32x4.shl (local.get $h) (i32.const 13)) (local.get $mag)) (local.get $k))
              (v128.and (i32x4.eq (v128.and (local.get $h) (local.get $exp)) (local.get $exp)) (local.get $inf)))
              (v128.load offset=48 (i32.add (local.get $x) (local.get $i))))))
        (local.set $i (i32.add (local.get $i) (i32.const 64)))
        (br_if $step (i32.lt_u (local.get $i) (local.get $end16)))))
    ;; the remaining groups of 4
    (block $exit4
      (loop $step4
        (br_if $exit4 (i32.ge_u (local.get $i) (local.get $end4)))
        (local.set $h (v128.load16x4_s (i32.add (local.get $w) (i32.shr_u (local.get $i) (i32.const 1)))))
        (local.set $a
          (f32x4.add (local.get $a)
            (f32x4.mul
              (v128.or
              (f32x4.mul (v128.and (i32x4.shl (local.get $h) (i32.const 13)) (local.get $mag)) (local.get $k))
              (v128.and (i32x4.eq (v128.and (local.get $h) (local.get $exp)) (local.get $exp)) (local.get $inf)))
              (v128.load offset=0 (i32.add (local.get $x) (local.get $i))))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $step4)))
    (f32.add
      (call $hsum (local.get $a))
      (call $dotTail16 (local.get $w) (local.get $x) (local.get $i) (local.get $nb) (i32.const 1))))

  ;; out (O) = w (O, I) @ x (I) + bias for a 16-bit w: $matvec with the widening in registers. The
  ;; type is chosen once per row, so the loops hold no branch and no call per weight. (Two rows
  ;; at a time sharing the input loads, each with its own add chain, measured no faster for
  ;; either type, so one row it is.)
  (func $matvec16 (param $out i32) (param $x i32) (param $w i32) (param $bias i32) (param $I i32) (param $O i32) (param $f16 i32)
    (local $nb i32) (local $wb i32) (local $o i32)
    (local.set $nb (i32.shl (local.get $I) (i32.const 2)))
    (local.set $wb (i32.shl (local.get $I) (i32.const 1)))
    (block $done
      (loop $row
        (br_if $done (i32.ge_u (local.get $o) (local.get $O)))
        (f32.store
          (i32.add (local.get $out) (i32.shl (local.get $o) (i32.const 2)))
          (f32.add
            (if (result f32) (local.get $f16)
              (then (call $dotF16 (local.get $w) (local.get $x) (local.get $nb)))
              (else (call $dotBf16 (local.get $w) (local.get $x) (local.get $nb))))
            (call $biasAt (local.get $bias) (local.get $o))))
        (local.set $w (i32.add (local.get $w) (local.get $wb)))
        (local.set $o (i32.add (local.get $o) (i32.const 1)))
        (br $row))))

  ;; $dst (n) f32 = the 16-bit row $src (n), bf16 or f16 ($f16 = 1). The vector loops are written
  ;; out per type (no call inside them, see above); the 0-3 elements past the last multiple of 4
  ;; go one at a time ($f16x4 on one lane for f16, the shift for bf16).
  (func $widenRow (param $dst i32) (param $src i32) (param $n i32) (param $f16 i32)
    (local $i i32) (local $end4 i32) (local $h v128)
    (local $mag v128) (local $exp v128) (local $inf v128) (local $k v128)
    ;; $i counts source bytes (2 per element); the destination byte is 2 $i
    (local.set $end4 (i32.and (i32.shl (local.get $n) (i32.const 1)) (i32.const -8)))
    (if (local.get $f16)
      (then
        ;; the constants in registers across the loop ($dotF16 measured 2x faster so)
        (local.set $mag (v128.const i32x4 0x8fffe000 0x8fffe000 0x8fffe000 0x8fffe000))
        (local.set $exp (v128.const i32x4 0x7c00 0x7c00 0x7c00 0x7c00))
        (local.set $inf (v128.const i32x4 0x7f800000 0x7f800000 0x7f800000 0x7f800000))
            (local.set $k (v128.const f32x4 0x1p112 0x1p112 0x1p112 0x1p112))
        (block $exit
          (loop $step
            (br_if $exit (i32.ge_u (local.get $i) (local.get $end4)))
            (local.set $h (v128.load16x4_s (i32.add (local.get $src) (local.get $i))))
            (v128.store (i32.add (local.get $dst) (i32.shl (local.get $i) (i32.const 1)))
              (v128.or
                (f32x4.mul (v128.and (i32x4.shl (local.get $h) (i32.const 13)) (local.get $mag)) (local.get $k))
                (v128.and (i32x4.eq (v128.and (local.get $h) (local.get $exp)) (local.get $exp)) (local.get $inf))))
            (local.set $i (i32.add (local.get $i) (i32.const 8)))
            (br $step))))
      (else
        (block $exit
          (loop $step
            (br_if $exit (i32.ge_u (local.get $i) (local.get $end4)))
            (v128.store (i32.add (local.get $dst) (i32.shl (local.get $i) (i32.const 1)))
              (i32x4.shl (v128.load16x4_s (i32.add (local.get $src) (local.get $i))) (i32.const 16)))
            (local.set $i (i32.add (local.get $i) (i32.const 8)))
            (br $step)))))
    ;; the tail, one element at a time
    (local.set $end4 (i32.shl (local.get $n) (i32.const 1)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $end4)))
        (local.set $h (i32x4.splat (i32.load16_s (i32.add (local.get $src) (local.get $i)))))
        (f32.store (i32.add (local.get $dst) (i32.shl (local.get $i) (i32.const 1)))
          (f32x4.extract_lane 0
            (if (result v128) (local.get $f16)
              (then (call $f16x4 (local.get $h)))
              (else (i32x4.shl (local.get $h) (i32.const 16))))))
        (local.set $i (i32.add (local.get $i) (i32.const 2)))
        (br $next))))

  ;; "matmul" for a 16-bit w (O, I), bf16 or f16 ($f16 = 1). T >= 4 (prefill): widened a pair of
  ;; rows at a time into $s (2 I floats of scratch, 16-byte aligned); each pair serves the blocks
  ;; of 4 token rows ($rowPair) and then the T mod 4 tokens left over, so every weight is widened
  ;; once per call. T < 4: $matvec16 per token.
  (func (export "matmul16") (param $out i32) (param $inp i32) (param $w i32) (param $bias i32) (param $T i32) (param $I i32) (param $O i32)
    (param $f16 i32) (param $s i32)
    (local $nb i32) (local $wb i32) (local $ob i32) (local $o i32) (local $O2 i32) (local $T4 i32) (local $s1 i32) (local $r0 i32)
    (local $b0 f32) (local $b1 f32)
    (local.set $nb (i32.shl (local.get $I) (i32.const 2)))
    (local.set $wb (i32.shl (local.get $I) (i32.const 1)))
    (local.set $ob (i32.shl (local.get $O) (i32.const 2)))
    (local.set $O2 (i32.and (local.get $O) (i32.const -2)))
    (local.set $T4 (i32.and (local.get $T) (i32.const -4)))
    (local.set $s1 (i32.add (local.get $s) (local.get $nb)))
    ;; T < 4 (decode): no block to share a widened row, so widen in registers, token by token
    (if (i32.eqz (local.get $T4))
      (then
        (block $done
          (loop $token
            (br_if $done (i32.ge_u (local.get $T4) (local.get $T)))
            (call $matvec16
              (i32.add (local.get $out) (i32.mul (local.get $T4) (local.get $ob)))
              (i32.add (local.get $inp) (i32.mul (local.get $T4) (local.get $nb)))
              (local.get $w) (local.get $bias) (local.get $I) (local.get $O) (local.get $f16))
            (local.set $T4 (i32.add (local.get $T4) (i32.const 1)))
            (br $token)))
        (return)))
    (block $rowsDone
      (loop $rows
        (br_if $rowsDone (i32.ge_u (local.get $o) (local.get $O2)))
        (local.set $r0 (i32.add (local.get $w) (i32.mul (local.get $o) (local.get $wb))))
        (call $widenRow (local.get $s) (local.get $r0) (local.get $I) (local.get $f16))
        (call $widenRow (local.get $s1) (i32.add (local.get $r0) (local.get $wb)) (local.get $I) (local.get $f16))
        (local.set $b0 (call $biasAt (local.get $bias) (local.get $o)))
        (local.set $b1 (call $biasAt (local.get $bias) (i32.add (local.get $o) (i32.const 1))))
        (if (local.get $T4)
          (then
            (call $rowPair (local.get $out) (local.get $inp) (local.get $s) (local.get $s1) (local.get $b0) (local.get $b1)
              (local.get $o) (local.get $nb) (local.get $ob) (local.get $T4))))
        (call $rowAll (local.get $out) (local.get $inp) (local.get $s) (local.get $b0) (local.get $o) (local.get $nb) (local.get $ob) (local.get $T4) (local.get $T))
        (call $rowAll (local.get $out) (local.get $inp) (local.get $s1) (local.get $b1) (i32.add (local.get $o) (i32.const 1)) (local.get $nb) (local.get $ob) (local.get $T4) (local.get $T))
        (local.set $o (i32.add (local.get $o) (i32.const 2)))
        (br $rows)))
    ;; the last row when O is odd: one dot product per token
    (if (i32.lt_u (local.get $o) (local.get $O))
      (then
        (call $widenRow (local.get $s) (i32.add (local.get $w) (i32.mul (local.get $o) (local.get $wb))) (local.get $I) (local.get $f16))
        (call $rowAll (local.get $out) (local.get $inp) (local.get $s) (call $biasAt (local.get $bias) (local.get $o))
          (local.get $o) (local.get $nb) (local.get $ob) (i32.const 0) (local.get $T)))))
)
