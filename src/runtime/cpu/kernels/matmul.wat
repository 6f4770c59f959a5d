;; out (T, O) = inp (T, I) @ w^T + bias (O), w (O, I) row-major (nn.Linear layout), in
;; WebAssembly SIMD. The same contract as matmulForward in ../ops.ts, which is its reference.
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

  ;; out (T4, O) = inp (T4, I) @ w^T + bias for T4 a multiple of 4: pairs of weight rows outermost,
  ;; blocks of 4 token rows inside. Each weight row comes from memory once and is reused from L1 by
  ;; every block; the T4 input rows (64 x 768 floats, 196 KB at most for our chunk size) stay in L2.
  (func $matmulBlocks (param $out i32) (param $x i32) (param $w i32) (param $bias i32) (param $I i32) (param $O i32) (param $T4 i32)
    (local $nb i32) (local $ob i32) (local $end4 i32) (local $o i32) (local $O2 i32) (local $i i32)
    (local $t i32) (local $p i32) (local $q i32) (local $r0 i32) (local $r1 i32) (local $b0 f32) (local $b1 f32)
    ;; x rows of the 4 tokens at byte $i, and the 2 weight rows
    (local $xa v128) (local $xb v128) (local $xc v128) (local $xd v128) (local $w0 v128) (local $w1 v128)
    ;; accumulators: $sTR for token T (a-d) of the block and weight row o + R (0-1)
    (local $sa0 v128) (local $sb0 v128) (local $sc0 v128) (local $sd0 v128)
    (local $sa1 v128) (local $sb1 v128) (local $sc1 v128) (local $sd1 v128)
    (local.set $nb (i32.shl (local.get $I) (i32.const 2)))
    (local.set $ob (i32.shl (local.get $O) (i32.const 2)))
    (local.set $end4 (i32.and (local.get $nb) (i32.const -16)))
    (local.set $O2 (i32.and (local.get $O) (i32.const -2)))

    ;; 2 weight rows at a time
    (block $rowsDone
      (br_if $rowsDone (i32.ge_u (local.get $o) (local.get $O2)))
      (loop $rows
        (local.set $r0 (i32.add (local.get $w) (i32.mul (local.get $o) (local.get $nb))))
        (local.set $r1 (i32.add (local.get $r0) (local.get $nb)))
        (local.set $b0 (call $biasAt (local.get $bias) (local.get $o)))
        (local.set $b1 (call $biasAt (local.get $bias) (i32.add (local.get $o) (i32.const 1))))

        ;; every block of 4 token rows against these 2 weight rows
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

        (local.set $o (i32.add (local.get $o) (i32.const 2)))
        (br_if $rows (i32.lt_u (local.get $o) (local.get $O2)))))

    ;; the last row when O is odd: one dot product per token
    (if (i32.lt_u (local.get $o) (local.get $O))
      (then
        (local.set $r0 (i32.add (local.get $w) (i32.mul (local.get $o) (local.get $nb))))
        (local.set $b0 (call $biasAt (local.get $bias) (local.get $o)))
        (local.set $t (i32.const 0))
        (loop $token
          (f32.store
            (i32.add (local.get $out) (i32.add (i32.mul (local.get $t) (local.get $ob)) (i32.shl (local.get $o) (i32.const 2))))
            (f32.add
              (call $dot (local.get $r0) (i32.add (local.get $x) (i32.mul (local.get $t) (local.get $nb))) (local.get $nb))
              (local.get $b0)))
          (local.set $t (i32.add (local.get $t) (i32.const 1)))
          (br_if $token (i32.lt_u (local.get $t) (local.get $T4)))))))

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
)
