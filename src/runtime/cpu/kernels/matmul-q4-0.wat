;; out (T, O) = inp (T, I) @ w^T + bias (O) for w (O, I) in Q4_0 blocks (18 bytes: f16 d, then 16
;; bytes whose low nibbles are elements 0..15 and high nibbles 16..31; x = d (q - 8)), against
;; activations quantized per block of 32 by quantizeRowsQ8 (quantize-rows-q8.wat). As
;; matmul-q8-0.wat, whose notes apply; the nibbles are split with one and, one shift and a
;; subtraction of 8 per 16 weights, and then meet the activations in i32x4.dot_i16x8_s. Where the
;; engine has relaxed SIMD, matmul-q4-0-relaxed.wat runs instead (the same bits, ~1.4x faster while
;; the weights are in cache); a change to the f32 work here must be made there too.
;;
;; Four weight rows at a time ($dot4): a block of activations is loaded once for the four, the
;; four rows' integer sums are folded into one i32x4 (a lane a row), and the per-block work that
;; used to follow every row's dot product (the -8 through the block sum, f16 scale to f32, int to
;; float, the multiply by the scales, the add) is done once for the four rows, four lanes wide; the
;; lanes are the four outputs, so no row ends in a horizontal sum either. Rows past a multiple of
;; 4 take $dot, one row at a time.
;;
;; Two tokens at a time when T >= 2 (prefill, $dot4x2): each weight block is loaded and split into
;; nibbles once for both; both tokens' activation blocks stay in registers (8 of x64's 16; loading
;; them at each use instead was 25% slower: V8 hoists every load to the top of the loop body and
;; spills). 15% off the T = 64 matmuls.
;;
;; Measured (Node 20, one thread, bench/quant-matmul-bench.mjs, median of rounds on a shared 2-core
;; machine, activation quantization included): see ARCHITECTURE.md "Quantized weights". Before,
;; with the per-row $dot alone, Q4_0 was no faster than Q8_0 (0.68 against 0.57 ms on the 32000 x
;; 288 head): both bound by instructions per block, not by bytes, and a Q4_0 block took a few more.
;; Splitting the nibbles in i8 lanes (i8x16.shr_u, which x64 lacks) and subtracting 8 before
;; widening was slower still.
(module
  (import "env" "memory" (memory 0))

  ;; dots of four weight rows $w, $w + $rb, $w + 2 $rb, $w + 3 $rb ($nb blocks each, $rb bytes
  ;; apart) with one quantized activation row ($xq, $xd, $xs): the four results as lanes
  (func $dot4 (param $w i32) (param $rb i32) (param $xq i32) (param $xd i32) (param $xs i32) (param $nb i32) (result v128)
    (local $end i32) (local $w0 i32) (local $w1 i32) (local $w2 i32) (local $w3 i32)
    (local $acc v128) (local $v v128) (local $m v128) (local $d v128)
    (local $x0 v128) (local $x1 v128) (local $x2 v128) (local $x3 v128)
    (local $p0 v128) (local $p1 v128) (local $p2 v128) (local $p3 v128)
    (local.set $end (i32.add (local.get $xd) (i32.shl (local.get $nb) (i32.const 2))))
    (local.set $w0 (local.get $w))
    (local.set $w1 (i32.add (local.get $w0) (local.get $rb)))
    (local.set $w2 (i32.add (local.get $w1) (local.get $rb)))
    (local.set $w3 (i32.add (local.get $w2) (local.get $rb)))
    (local.set $m (v128.const i16x8 15 15 15 15 15 15 15 15))
    (block $done
      (loop $block
        (br_if $done (i32.ge_u (local.get $xd) (local.get $end)))
        (local.set $x0 (v128.load offset=0 (local.get $xq)))
        (local.set $x1 (v128.load offset=16 (local.get $xq)))
        (local.set $x2 (v128.load offset=32 (local.get $xq)))
        (local.set $x3 (v128.load offset=48 (local.get $xq)))
        ;; row 0: its 16 bytes as i16 lanes against the activation block, as in $dot
        (local.set $v (v128.load offset=2 (local.get $w0)))
        (local.set $p0 (i32x4.dot_i16x8_s (v128.and (local.get $v) (local.get $m)) (local.get $x0)))
        (local.set $p0 (i32x4.add (local.get $p0) (i32x4.dot_i16x8_s (v128.and (i16x8.shr_u (local.get $v) (i32.const 8)) (local.get $m)) (local.get $x1))))
        (local.set $p0 (i32x4.add (local.get $p0) (i32x4.dot_i16x8_s (v128.and (i16x8.shr_u (local.get $v) (i32.const 4)) (local.get $m)) (local.get $x2))))
        (local.set $p0 (i32x4.add (local.get $p0) (i32x4.dot_i16x8_s (i16x8.shr_u (local.get $v) (i32.const 12)) (local.get $x3))))
        ;; rows 1, 2, 3 the same
        (local.set $v (v128.load offset=2 (local.get $w1)))
        (local.set $p1 (i32x4.dot_i16x8_s (v128.and (local.get $v) (local.get $m)) (local.get $x0)))
        (local.set $p1 (i32x4.add (local.get $p1) (i32x4.dot_i16x8_s (v128.and (i16x8.shr_u (local.get $v) (i32.const 8)) (local.get $m)) (local.get $x1))))
        (local.set $p1 (i32x4.add (local.get $p1) (i32x4.dot_i16x8_s (v128.and (i16x8.shr_u (local.get $v) (i32.const 4)) (local.get $m)) (local.get $x2))))
        (local.set $p1 (i32x4.add (local.get $p1) (i32x4.dot_i16x8_s (i16x8.shr_u (local.get $v) (i32.const 12)) (local.get $x3))))
        ;; lanes of rows 0 and 1 folded together, so that fewer vectors stay live
        (local.set $p0 (i32x4.add
          (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $p0) (local.get $p1))
          (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $p0) (local.get $p1))))
        (local.set $v (v128.load offset=2 (local.get $w2)))
        (local.set $p2 (i32x4.dot_i16x8_s (v128.and (local.get $v) (local.get $m)) (local.get $x0)))
        (local.set $p2 (i32x4.add (local.get $p2) (i32x4.dot_i16x8_s (v128.and (i16x8.shr_u (local.get $v) (i32.const 8)) (local.get $m)) (local.get $x1))))
        (local.set $p2 (i32x4.add (local.get $p2) (i32x4.dot_i16x8_s (v128.and (i16x8.shr_u (local.get $v) (i32.const 4)) (local.get $m)) (local.get $x2))))
        (local.set $p2 (i32x4.add (local.get $p2) (i32x4.dot_i16x8_s (i16x8.shr_u (local.get $v) (i32.const 12)) (local.get $x3))))
        (local.set $v (v128.load offset=2 (local.get $w3)))
        (local.set $p3 (i32x4.dot_i16x8_s (v128.and (local.get $v) (local.get $m)) (local.get $x0)))
        (local.set $p3 (i32x4.add (local.get $p3) (i32x4.dot_i16x8_s (v128.and (i16x8.shr_u (local.get $v) (i32.const 8)) (local.get $m)) (local.get $x1))))
        (local.set $p3 (i32x4.add (local.get $p3) (i32x4.dot_i16x8_s (v128.and (i16x8.shr_u (local.get $v) (i32.const 4)) (local.get $m)) (local.get $x2))))
        (local.set $p3 (i32x4.add (local.get $p3) (i32x4.dot_i16x8_s (i16x8.shr_u (local.get $v) (i32.const 12)) (local.get $x3))))
        ;; rows 2 and 3 folded as 0 and 1, then the two halves: lane r = row r's sum of q x
        (local.set $p2 (i32x4.add
          (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $p2) (local.get $p3))
          (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $p2) (local.get $p3))))
        (local.set $p0 (i32x4.add
          (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $p0) (local.get $p2))
          (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $p0) (local.get $p2))))
        ;; sum (q - 8) x = sum q x - 8 sum x, the same activation block for the four rows
        (local.set $p0 (i32x4.sub (local.get $p0) (i32x4.splat (i32.shl (i32.load (local.get $xs)) (i32.const 3)))))
        ;; the four rows' f16 d as f32 lanes: (h << 13) & 0x8fffe000 times 2^112 (see matmul.wat)
        (local.set $d (i32x4.splat (i32.load16_s (local.get $w0))))
        (local.set $d (i32x4.replace_lane 1 (local.get $d) (i32.load16_s (local.get $w1))))
        (local.set $d (i32x4.replace_lane 2 (local.get $d) (i32.load16_s (local.get $w2))))
        (local.set $d (i32x4.replace_lane 3 (local.get $d) (i32.load16_s (local.get $w3))))
        (local.set $d (v128.and (i32x4.shl (local.get $d) (i32.const 13)) (v128.const i32x4 0x8fffe000 0x8fffe000 0x8fffe000 0x8fffe000)))
        ;; acc += p * dw * dx
        (local.set $acc
          (f32x4.add (local.get $acc)
            (f32x4.mul (f32x4.convert_i32x4_s (local.get $p0))
              (f32x4.mul (local.get $d) (f32x4.splat (f32.mul (f32.load (local.get $xd)) (f32.const 0x1p112)))))))
        (local.set $w0 (i32.add (local.get $w0) (i32.const 18)))
        (local.set $w1 (i32.add (local.get $w1) (i32.const 18)))
        (local.set $w2 (i32.add (local.get $w2) (i32.const 18)))
        (local.set $w3 (i32.add (local.get $w3) (i32.const 18)))
        (local.set $xq (i32.add (local.get $xq) (i32.const 64)))
        (local.set $xd (i32.add (local.get $xd) (i32.const 4)))
        (local.set $xs (i32.add (local.get $xs) (i32.const 4)))
        (br $block)))
    (local.get $acc))

  ;; $dot4 for two tokens: the activation rows ($xq, $xd, $xs) and the next one ($nb blocks on),
  ;; out0 + bias and out1 + bias stored at $out and $out + $os. Each weight block is loaded and
  ;; split into nibbles once for both tokens; per token the f32 work per block is $dot4's, the
  ;; same operations in the same order (the integer sums are exact whatever their order), so the
  ;; outputs are $dot4's bits.
  (func $dot4x2 (param $w i32) (param $rb i32) (param $xq i32) (param $xd i32) (param $xs i32) (param $nb i32)
    (param $out i32) (param $os i32) (param $b4 v128)
    (local $end i32) (local $w0 i32) (local $w1 i32) (local $w2 i32) (local $w3 i32) (local $yq i32) (local $yo i32)
    (local $acca v128) (local $accb v128) (local $v v128) (local $n v128) (local $m v128) (local $d v128)
    (local $pa0 v128) (local $pa1 v128) (local $pa2 v128) (local $pa3 v128)
    (local $pb0 v128) (local $pb1 v128) (local $pb2 v128) (local $pb3 v128)
    (local $x0 v128) (local $x1 v128) (local $x2 v128) (local $x3 v128)
    (local $y0 v128) (local $y1 v128) (local $y2 v128) (local $y3 v128)
    (local.set $end (i32.add (local.get $xd) (i32.shl (local.get $nb) (i32.const 2))))
    ;; the second token's scales and sums are $yo bytes after the first's
    (local.set $yo (i32.shl (local.get $nb) (i32.const 2)))
    (local.set $yq (i32.add (local.get $xq) (i32.shl (local.get $nb) (i32.const 6))))
    (local.set $w0 (local.get $w))
    (local.set $w1 (i32.add (local.get $w0) (local.get $rb)))
    (local.set $w2 (i32.add (local.get $w1) (local.get $rb)))
    (local.set $w3 (i32.add (local.get $w2) (local.get $rb)))
    (local.set $m (v128.const i16x8 15 15 15 15 15 15 15 15))
    (block $done
      (loop $block
        (br_if $done (i32.ge_u (local.get $xd) (local.get $end)))
        (local.set $x0 (v128.load offset=0 (local.get $xq)))
        (local.set $x1 (v128.load offset=16 (local.get $xq)))
        (local.set $x2 (v128.load offset=32 (local.get $xq)))
        (local.set $x3 (v128.load offset=48 (local.get $xq)))
        (local.set $y0 (v128.load offset=0 (local.get $yq)))
        (local.set $y1 (v128.load offset=16 (local.get $yq)))
        (local.set $y2 (v128.load offset=32 (local.get $yq)))
        (local.set $y3 (v128.load offset=48 (local.get $yq)))
        (local.set $v (v128.load offset=2 (local.get $w0)))
        (local.set $n (v128.and (local.get $v) (local.get $m)))
        (local.set $pa0 (i32x4.dot_i16x8_s (local.get $n) (local.get $x0)))
        (local.set $pb0 (i32x4.dot_i16x8_s (local.get $n) (local.get $y0)))
        (local.set $n (v128.and (i16x8.shr_u (local.get $v) (i32.const 8)) (local.get $m)))
        (local.set $pa0 (i32x4.add (local.get $pa0) (i32x4.dot_i16x8_s (local.get $n) (local.get $x1))))
        (local.set $pb0 (i32x4.add (local.get $pb0) (i32x4.dot_i16x8_s (local.get $n) (local.get $y1))))
        (local.set $n (v128.and (i16x8.shr_u (local.get $v) (i32.const 4)) (local.get $m)))
        (local.set $pa0 (i32x4.add (local.get $pa0) (i32x4.dot_i16x8_s (local.get $n) (local.get $x2))))
        (local.set $pb0 (i32x4.add (local.get $pb0) (i32x4.dot_i16x8_s (local.get $n) (local.get $y2))))
        (local.set $n (i16x8.shr_u (local.get $v) (i32.const 12)))
        (local.set $pa0 (i32x4.add (local.get $pa0) (i32x4.dot_i16x8_s (local.get $n) (local.get $x3))))
        (local.set $pb0 (i32x4.add (local.get $pb0) (i32x4.dot_i16x8_s (local.get $n) (local.get $y3))))
        (local.set $v (v128.load offset=2 (local.get $w1)))
        (local.set $n (v128.and (local.get $v) (local.get $m)))
        (local.set $pa1 (i32x4.dot_i16x8_s (local.get $n) (local.get $x0)))
        (local.set $pb1 (i32x4.dot_i16x8_s (local.get $n) (local.get $y0)))
        (local.set $n (v128.and (i16x8.shr_u (local.get $v) (i32.const 8)) (local.get $m)))
        (local.set $pa1 (i32x4.add (local.get $pa1) (i32x4.dot_i16x8_s (local.get $n) (local.get $x1))))
        (local.set $pb1 (i32x4.add (local.get $pb1) (i32x4.dot_i16x8_s (local.get $n) (local.get $y1))))
        (local.set $n (v128.and (i16x8.shr_u (local.get $v) (i32.const 4)) (local.get $m)))
        (local.set $pa1 (i32x4.add (local.get $pa1) (i32x4.dot_i16x8_s (local.get $n) (local.get $x2))))
        (local.set $pb1 (i32x4.add (local.get $pb1) (i32x4.dot_i16x8_s (local.get $n) (local.get $y2))))
        (local.set $n (i16x8.shr_u (local.get $v) (i32.const 12)))
        (local.set $pa1 (i32x4.add (local.get $pa1) (i32x4.dot_i16x8_s (local.get $n) (local.get $x3))))
        (local.set $pb1 (i32x4.add (local.get $pb1) (i32x4.dot_i16x8_s (local.get $n) (local.get $y3))))
        ;; each token's rows 0 and 1 folded as in $dot4
        (local.set $pa0 (i32x4.add
          (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $pa0) (local.get $pa1))
          (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $pa0) (local.get $pa1))))
        (local.set $pb0 (i32x4.add
          (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $pb0) (local.get $pb1))
          (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $pb0) (local.get $pb1))))
        (local.set $v (v128.load offset=2 (local.get $w2)))
        (local.set $n (v128.and (local.get $v) (local.get $m)))
        (local.set $pa2 (i32x4.dot_i16x8_s (local.get $n) (local.get $x0)))
        (local.set $pb2 (i32x4.dot_i16x8_s (local.get $n) (local.get $y0)))
        (local.set $n (v128.and (i16x8.shr_u (local.get $v) (i32.const 8)) (local.get $m)))
        (local.set $pa2 (i32x4.add (local.get $pa2) (i32x4.dot_i16x8_s (local.get $n) (local.get $x1))))
        (local.set $pb2 (i32x4.add (local.get $pb2) (i32x4.dot_i16x8_s (local.get $n) (local.get $y1))))
        (local.set $n (v128.and (i16x8.shr_u (local.get $v) (i32.const 4)) (local.get $m)))
        (local.set $pa2 (i32x4.add (local.get $pa2) (i32x4.dot_i16x8_s (local.get $n) (local.get $x2))))
        (local.set $pb2 (i32x4.add (local.get $pb2) (i32x4.dot_i16x8_s (local.get $n) (local.get $y2))))
        (local.set $n (i16x8.shr_u (local.get $v) (i32.const 12)))
        (local.set $pa2 (i32x4.add (local.get $pa2) (i32x4.dot_i16x8_s (local.get $n) (local.get $x3))))
        (local.set $pb2 (i32x4.add (local.get $pb2) (i32x4.dot_i16x8_s (local.get $n) (local.get $y3))))
        (local.set $v (v128.load offset=2 (local.get $w3)))
        (local.set $n (v128.and (local.get $v) (local.get $m)))
        (local.set $pa3 (i32x4.dot_i16x8_s (local.get $n) (local.get $x0)))
        (local.set $pb3 (i32x4.dot_i16x8_s (local.get $n) (local.get $y0)))
        (local.set $n (v128.and (i16x8.shr_u (local.get $v) (i32.const 8)) (local.get $m)))
        (local.set $pa3 (i32x4.add (local.get $pa3) (i32x4.dot_i16x8_s (local.get $n) (local.get $x1))))
        (local.set $pb3 (i32x4.add (local.get $pb3) (i32x4.dot_i16x8_s (local.get $n) (local.get $y1))))
        (local.set $n (v128.and (i16x8.shr_u (local.get $v) (i32.const 4)) (local.get $m)))
        (local.set $pa3 (i32x4.add (local.get $pa3) (i32x4.dot_i16x8_s (local.get $n) (local.get $x2))))
        (local.set $pb3 (i32x4.add (local.get $pb3) (i32x4.dot_i16x8_s (local.get $n) (local.get $y2))))
        (local.set $n (i16x8.shr_u (local.get $v) (i32.const 12)))
        (local.set $pa3 (i32x4.add (local.get $pa3) (i32x4.dot_i16x8_s (local.get $n) (local.get $x3))))
        (local.set $pb3 (i32x4.add (local.get $pb3) (i32x4.dot_i16x8_s (local.get $n) (local.get $y3))))
        ;; rows 2 and 3, then the halves: lane r = row r's sum of q x, per token
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
        (local.set $xq (i32.add (local.get $xq) (i32.const 64)))
        (local.set $yq (i32.add (local.get $yq) (i32.const 64)))
        (local.set $xd (i32.add (local.get $xd) (i32.const 4)))
        (local.set $xs (i32.add (local.get $xs) (i32.const 4)))
        (br $block)))
    (v128.store (local.get $out) (f32x4.add (local.get $acca) (local.get $b4)))
    (v128.store (i32.add (local.get $out) (local.get $os)) (f32x4.add (local.get $accb) (local.get $b4))))

  ;; dot of one weight row (the rows past a multiple of 4) $w ($nb blocks) with one quantized activation row ($xq, $xd, $xs)
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

  ;; matmulQ4_0 for T >= 2: the same loops, with each group of four rows met by the tokens two
  ;; at a time ($dot4x2) and an odd last token alone ($dot4). Its own function because the pair
  ;; loop inside matmulQ4_0 slowed T = 1 (decode) by ~12% over matrices beyond the caches, with
  ;; $dot4's machine code unchanged (the cause not found; measured in ARCHITECTURE.md).
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
              (i32.add (local.get $xq) (i32.shl (local.get $at) (i32.const 6)))
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
                  (i32.add (local.get $xq) (i32.shl (local.get $at) (i32.const 6)))
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
                  (i32.add (local.get $xq) (i32.shl (local.get $at) (i32.const 6)))
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
                  (i32.add (local.get $xq) (i32.shl (local.get $at) (i32.const 6)))
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
                  (i32.add (local.get $xq) (i32.shl (local.get $at) (i32.const 6)))
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
