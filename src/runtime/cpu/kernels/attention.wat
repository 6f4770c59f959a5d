;; The two dot-product loops of attention for one query head, in WebAssembly SIMD: scores against
;; every cached key, then the score-weighted sum of the cached values. The softmax between them
;; stays in TypeScript (softmaxInPlace in ../ops.ts): WebAssembly has no exp, and it is n
;; exponentials against the n D multiply-adds done here. attentionForward in ../ops.ts is the
;; reference; simd-kernels.ts drives these per row and head.
;;
;; Pointers are byte offsets into the imported memory (see wasm-arena.ts). Key and value rows of
;; consecutive positions are $stride bytes apart (Hkv D floats: one cache row holds every kv head).
;; D need not be a multiple of 4.
(module
  (import "env" "memory" (memory 0))

  ;; the sum of the four lanes of $v
  (func $hsum (param $v v128) (result f32)
    (f32.add
      (f32.add (f32x4.extract_lane 0 (local.get $v)) (f32x4.extract_lane 1 (local.get $v)))
      (f32.add (f32x4.extract_lane 2 (local.get $v)) (f32x4.extract_lane 3 (local.get $v)))))

  ;; s (n) = scale (q (D) . k[p] (D)) for positions p = 0 .. n-1
  (func (export "scores") (param $s i32) (param $q i32) (param $k i32) (param $n i32) (param $D i32) (param $stride i32) (param $scale f32)
    (local $p i32) (local $i i32) (local $nb i32) (local $end8 i32) (local $end4 i32)
    (local $a v128) (local $b v128) (local $sum f32)
    (local.set $nb (i32.shl (local.get $D) (i32.const 2)))
    (local.set $end8 (i32.and (local.get $nb) (i32.const -32)))
    (local.set $end4 (i32.and (local.get $nb) (i32.const -16)))
    (block $done
      (loop $position
        (br_if $done (i32.ge_u (local.get $p) (local.get $n)))
        (local.set $a (v128.const i32x4 0 0 0 0))
        (local.set $b (v128.const i32x4 0 0 0 0))
        (local.set $i (i32.const 0))
        ;; 8 floats a step, 2 accumulators
        (block $exit8
          (loop $step8
            (br_if $exit8 (i32.ge_u (local.get $i) (local.get $end8)))
            (local.set $a
              (f32x4.add (local.get $a)
                (f32x4.mul
                  (v128.load (i32.add (local.get $q) (local.get $i)))
                  (v128.load (i32.add (local.get $k) (local.get $i))))))
            (local.set $b
              (f32x4.add (local.get $b)
                (f32x4.mul
                  (v128.load offset=16 (i32.add (local.get $q) (local.get $i)))
                  (v128.load offset=16 (i32.add (local.get $k) (local.get $i))))))
            (local.set $i (i32.add (local.get $i) (i32.const 32)))
            (br $step8)))
        ;; one more group of 4 when D mod 8 >= 4
        (if (i32.lt_u (local.get $i) (local.get $end4))
          (then
            (local.set $a
              (f32x4.add (local.get $a)
                (f32x4.mul
                  (v128.load (i32.add (local.get $q) (local.get $i)))
                  (v128.load (i32.add (local.get $k) (local.get $i))))))
            (local.set $i (local.get $end4))))
        (local.set $sum (call $hsum (f32x4.add (local.get $a) (local.get $b))))
        ;; the last D mod 4 elements
        (block $exit1
          (loop $step1
            (br_if $exit1 (i32.ge_u (local.get $i) (local.get $nb)))
            (local.set $sum
              (f32.add (local.get $sum)
                (f32.mul
                  (f32.load (i32.add (local.get $q) (local.get $i)))
                  (f32.load (i32.add (local.get $k) (local.get $i))))))
            (local.set $i (i32.add (local.get $i) (i32.const 4)))
            (br $step1)))
        (f32.store (i32.add (local.get $s) (i32.shl (local.get $p) (i32.const 2))) (f32.mul (local.get $sum) (local.get $scale)))
        (local.set $k (i32.add (local.get $k) (local.get $stride)))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $position))))

  ;; out (D) = sum over p = 0 .. n-1 of s[p] v[p] (D). Columns outermost, in blocks of 16 floats
  ;; held in 4 accumulators while the positions stream past, so out is written once.
  (func (export "mixValues") (param $out i32) (param $s i32) (param $v i32) (param $n i32) (param $D i32) (param $stride i32)
    (local $d i32) (local $p i32) (local $nb i32) (local $end16 i32) (local $end4 i32) (local $vp i32)
    (local $w v128) (local $a v128) (local $b v128) (local $c v128) (local $e v128) (local $sum f32)
    (local.set $nb (i32.shl (local.get $D) (i32.const 2)))
    (local.set $end16 (i32.and (local.get $nb) (i32.const -64)))
    (local.set $end4 (i32.and (local.get $nb) (i32.const -16)))

    ;; blocks of 16 columns
    (block $blocksDone
      (loop $block
        (br_if $blocksDone (i32.ge_u (local.get $d) (local.get $end16)))
        (local.set $a (v128.const i32x4 0 0 0 0))
        (local.set $b (v128.const i32x4 0 0 0 0))
        (local.set $c (v128.const i32x4 0 0 0 0))
        (local.set $e (v128.const i32x4 0 0 0 0))
        (local.set $vp (i32.add (local.get $v) (local.get $d)))
        (local.set $p (i32.const 0))
        (block $positionsDone
          (loop $position
            (br_if $positionsDone (i32.ge_u (local.get $p) (local.get $n)))
            (local.set $w (v128.load32_splat (i32.add (local.get $s) (i32.shl (local.get $p) (i32.const 2)))))
            (local.set $a (f32x4.add (local.get $a) (f32x4.mul (local.get $w) (v128.load (local.get $vp)))))
            (local.set $b (f32x4.add (local.get $b) (f32x4.mul (local.get $w) (v128.load offset=16 (local.get $vp)))))
            (local.set $c (f32x4.add (local.get $c) (f32x4.mul (local.get $w) (v128.load offset=32 (local.get $vp)))))
            (local.set $e (f32x4.add (local.get $e) (f32x4.mul (local.get $w) (v128.load offset=48 (local.get $vp)))))
            (local.set $vp (i32.add (local.get $vp) (local.get $stride)))
            (local.set $p (i32.add (local.get $p) (i32.const 1)))
            (br $position)))
        (v128.store (i32.add (local.get $out) (local.get $d)) (local.get $a))
        (v128.store offset=16 (i32.add (local.get $out) (local.get $d)) (local.get $b))
        (v128.store offset=32 (i32.add (local.get $out) (local.get $d)) (local.get $c))
        (v128.store offset=48 (i32.add (local.get $out) (local.get $d)) (local.get $e))
        (local.set $d (i32.add (local.get $d) (i32.const 64)))
        (br $block)))

    ;; groups of 4 columns (D mod 16 = 4, 8 or 12)
    (block $groupsDone
      (loop $group
        (br_if $groupsDone (i32.ge_u (local.get $d) (local.get $end4)))
        (local.set $a (v128.const i32x4 0 0 0 0))
        (local.set $vp (i32.add (local.get $v) (local.get $d)))
        (local.set $p (i32.const 0))
        (block $positionsDone
          (loop $position
            (br_if $positionsDone (i32.ge_u (local.get $p) (local.get $n)))
            (local.set $a
              (f32x4.add (local.get $a)
                (f32x4.mul
                  (v128.load32_splat (i32.add (local.get $s) (i32.shl (local.get $p) (i32.const 2))))
                  (v128.load (local.get $vp)))))
            (local.set $vp (i32.add (local.get $vp) (local.get $stride)))
            (local.set $p (i32.add (local.get $p) (i32.const 1)))
            (br $position)))
        (v128.store (i32.add (local.get $out) (local.get $d)) (local.get $a))
        (local.set $d (i32.add (local.get $d) (i32.const 16)))
        (br $group)))

    ;; the last D mod 4 columns, one at a time
    (block $columnsDone
      (loop $column
        (br_if $columnsDone (i32.ge_u (local.get $d) (local.get $nb)))
        (local.set $sum (f32.const 0))
        (local.set $vp (i32.add (local.get $v) (local.get $d)))
        (local.set $p (i32.const 0))
        (block $positionsDone
          (loop $position
            (br_if $positionsDone (i32.ge_u (local.get $p) (local.get $n)))
            (local.set $sum
              (f32.add (local.get $sum)
                (f32.mul
                  (f32.load (i32.add (local.get $s) (i32.shl (local.get $p) (i32.const 2))))
                  (f32.load (local.get $vp)))))
            (local.set $vp (i32.add (local.get $vp) (local.get $stride)))
            (local.set $p (i32.add (local.get $p) (i32.const 1)))
            (br $position)))
        (f32.store (i32.add (local.get $out) (local.get $d)) (local.get $sum))
        (local.set $d (i32.add (local.get $d) (i32.const 4)))
        (br $column))))
)
