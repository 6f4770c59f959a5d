/**
 * The op kernels of the CPU backend as plain functions over Float32Array, outputs first, in the
 * style of llm.c's `*_forward` functions. Matrices are row-major; every function takes its
 * dimensions explicitly and allocates nothing, so a decode step creates no garbage. Shapes are
 * not checked here: the Backend contract is checked once per call (checked-backend.ts), these loops trust it.
 *
 * Accumulation happens in JavaScript numbers (float64), so the CPU path is at least as accurate as
 * the float32 WebGPU kernels it serves as the reference for.
 */

/** out (T, C) = tokEmb[ids[t]] (V, C) rows, plus posEmb[pos0 + t] when `posEmb` is given. */
export function embedForward(
  out: Float32Array,
  ids: Int32Array,
  T: number,
  C: number,
  tokEmb: Float32Array,
  posEmb: Float32Array | null,
  pos0: number,
): void {
  for (let t = 0; t < T; t++) {
    const o = t * C;
    const e = ids[t] * C;
    if (posEmb === null) {
      for (let c = 0; c < C; c++) out[o + c] = tokEmb[e + c];
    } else {
      const p = (pos0 + t) * C;
      for (let c = 0; c < C; c++) out[o + c] = tokEmb[e + c] + posEmb[p + c];
    }
  }
}

/**
 * out (T, C) = (inp - mean) / sqrt(var + eps) * weight (C) + bias (C), per row, with the biased
 * variance (divided by C, as PyTorch's LayerNorm). Two passes for the variance: the one-pass
 * E[x^2] - E[x]^2 cancels badly when the mean is large. `out` may be `inp`.
 */
export function layernormForward(
  out: Float32Array,
  inp: Float32Array,
  weight: Float32Array,
  bias: Float32Array,
  T: number,
  C: number,
  eps: number,
): void {
  for (let t = 0; t < T; t++) {
    const r = t * C;
    let sum = 0;
    for (let c = 0; c < C; c++) sum += inp[r + c];
    const mean = sum / C;
    let sq = 0;
    for (let c = 0; c < C; c++) {
      const d = inp[r + c] - mean;
      sq += d * d;
    }
    const rstd = 1 / Math.sqrt(sq / C + eps);
    for (let c = 0; c < C; c++) out[r + c] = (inp[r + c] - mean) * rstd * weight[c] + bias[c];
  }
}

/** out (T, C) = inp / sqrt(mean(inp^2) + eps) * weight (C), per row. `out` may be `inp`. */
export function rmsnormForward(out: Float32Array, inp: Float32Array, weight: Float32Array, T: number, C: number, eps: number): void {
  for (let t = 0; t < T; t++) {
    const r = t * C;
    let sq = 0;
    for (let c = 0; c < C; c++) sq += inp[r + c] * inp[r + c];
    const rstd = 1 / Math.sqrt(sq / C + eps);
    for (let c = 0; c < C; c++) out[r + c] = inp[r + c] * rstd * weight[c];
  }
}

// Rows of `inp` that share one pass over a weight row. 4 keeps 4 accumulators live (enough to hide
// the add latency) and the 4 input rows in L1 next to the weight row.
const TOKEN_BLOCK = 4;

/**
 * out (T, O) = inp (T, I) @ w^T + bias (O), with w (O, I) row-major (nn.Linear layout), so every
 * output is the dot product of two contiguous rows. The loop runs over weight rows outermost:
 * each weight row is read from memory once and then reused, from cache, by every block of 4
 * token rows; for T = 1 (decode) it is a plain matvec unrolled by 4 with 4 accumulators.
 * `out` must not overlap `inp`.
 */
/**
 * out (T, O) = inp (T, I) @ W^T + bias for a weight held in a narrower type: `widen(o, row)` writes
 * row o of W as f32 into `row` (I) once, then every token uses it; sums in float64. The reference
 * path of the 16-bit and quantized weights, where no WebAssembly kernel runs.
 */
export function matmulWidenedRows(
  out: Float32Array,
  inp: Float32Array,
  bias: Float32Array | null,
  T: number,
  I: number,
  O: number,
  row: Float32Array,
  widen: (o: number, row: Float32Array) => void,
): void {
  for (let o = 0; o < O; o++) {
    widen(o, row);
    const b = bias === null ? 0 : bias[o];
    for (let t = 0; t < T; t++) {
      const r = t * I;
      let a = 0;
      for (let i = 0; i < I; i++) a += row[i] * inp[r + i];
      out[t * O + o] = a + b;
    }
  }
}

export function matmulForward(
  out: Float32Array,
  inp: Float32Array,
  w: Float32Array,
  bias: Float32Array | null,
  T: number,
  I: number,
  O: number,
): void {
  const I4 = I - (I % 4);
  const Tb = T - (T % TOKEN_BLOCK);
  for (let o = 0; o < O; o++) {
    const wr = o * I;
    const b = bias === null ? 0 : bias[o];

    // blocks of 4 token rows: one weight element feeds 4 accumulators
    for (let t = 0; t < Tb; t += TOKEN_BLOCK) {
      const r0 = t * I;
      const r1 = r0 + I;
      const r2 = r1 + I;
      const r3 = r2 + I;
      let a0 = 0;
      let a1 = 0;
      let a2 = 0;
      let a3 = 0;
      for (let i = 0; i < I; i++) {
        const wi = w[wr + i];
        a0 += wi * inp[r0 + i];
        a1 += wi * inp[r1 + i];
        a2 += wi * inp[r2 + i];
        a3 += wi * inp[r3 + i];
      }
      out[t * O + o] = a0 + b;
      out[(t + 1) * O + o] = a1 + b;
      out[(t + 2) * O + o] = a2 + b;
      out[(t + 3) * O + o] = a3 + b;
    }

    // the remaining rows (all of them when T < 4): unrolled dot products
    for (let t = Tb; t < T; t++) {
      const r = t * I;
      let a0 = 0;
      let a1 = 0;
      let a2 = 0;
      let a3 = 0;
      let i = 0;
      for (; i < I4; i += 4) {
        a0 += w[wr + i] * inp[r + i];
        a1 += w[wr + i + 1] * inp[r + i + 1];
        a2 += w[wr + i + 2] * inp[r + i + 2];
        a3 += w[wr + i + 3] * inp[r + i + 3];
      }
      for (; i < I; i++) a0 += w[wr + i] * inp[r + i];
      out[t * O + o] = a0 + a1 + (a2 + a3) + b;
    }
  }
}

/**
 * Rotary position embedding, in place, on the q heads (H) and k heads (Hkv) of each packed row
 * qkv (T, (H + 2 Hkv) D) = [q (H D) | k (Hkv D) | v (Hkv D)]; v is left alone. Rotate-half layout
 * (Llama / Hugging Face): pair i is (x[i], x[i + D/2]), rotated by angle (pos0 + t) invFreq[i],
 * invFreq (D/2).
 */
export function ropeForward(
  qkv: Float32Array,
  T: number,
  pos0: number,
  H: number,
  Hkv: number,
  D: number,
  invFreq: Float32Array,
): void {
  const half = D / 2;
  const width = (H + 2 * Hkv) * D;
  const heads = H + Hkv; // q heads then k heads are contiguous at the start of the row
  for (let t = 0; t < T; t++) {
    const row = t * width;
    const pos = pos0 + t;
    for (let i = 0; i < half; i++) {
      // Hugging Face computes the angle as a float32 product; rounding it the same way keeps
      // positions in the thousands within float32 error of the reference instead of drifting.
      const angle = Math.fround(pos * invFreq[i]);
      const cos = Math.cos(angle);
      const sin = Math.sin(angle);
      for (let h = 0; h < heads; h++) {
        const j = row + h * D + i;
        const x0 = qkv[j];
        const x1 = qkv[j + half];
        qkv[j] = x0 * cos - x1 * sin;
        qkv[j + half] = x1 * cos + x0 * sin;
      }
    }
  }
}

/** x[0 .. n-1] = softmax(x[0 .. n-1]) in place, subtracting the max first so exp never overflows. */
export function softmaxInPlace(x: Float32Array, n: number): void {
  let max = -Infinity;
  for (let i = 0; i < n; i++) if (x[i] > max) max = x[i];
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const e = Math.exp(x[i] - max);
    x[i] = e;
    sum += e;
  }
  const inv = 1 / sum;
  for (let i = 0; i < n; i++) x[i] *= inv;
}

/**
 * Appends the k and v parts of qkv (T, (H + 2 Hkv) D) to one layer's slice of the caches
 * (L, S, Hkv D) at positions pos0 .. pos0 + T - 1; `layerOffset` = layer S Hkv D.
 */
export function storeKv(
  kCache: Float32Array,
  vCache: Float32Array,
  qkv: Float32Array,
  layerOffset: number,
  T: number,
  pos0: number,
  H: number,
  Hkv: number,
  D: number,
): void {
  const width = (H + 2 * Hkv) * D;
  const kvWidth = Hkv * D;
  const kOff = H * D; // k part of a qkv row
  const vOff = kOff + kvWidth; // v part of a qkv row
  for (let t = 0; t < T; t++) {
    const src = t * width;
    const dst = layerOffset + (pos0 + t) * kvWidth;
    for (let c = 0; c < kvWidth; c++) {
      kCache[dst + c] = qkv[src + kOff + c];
      vCache[dst + c] = qkv[src + vOff + c];
    }
  }
}

/**
 * Causal multi-head attention with grouped-query heads, over a KV cache. First stores the k and v
 * parts of qkv (T, (H + 2 Hkv) D) at positions pos0 .. pos0 + T - 1 of one layer's cache slice,
 * then for every row t and query head h:
 *   out[t, h] (D) = sum over p in 0 .. pos0 + t of softmax_p(q[t, h] . k[p, g] / sqrt(D)) v[p, g],
 * g = floor(h / (H / Hkv)). `kCache` and `vCache` are (L, S, Hkv D); `layerOffset` = layer S Hkv D
 * selects the layer. `scores` (S) is scratch. The caller guarantees pos0 + T <= S.
 */
export function attentionForward(
  out: Float32Array,
  qkv: Float32Array,
  kCache: Float32Array,
  vCache: Float32Array,
  layerOffset: number,
  scores: Float32Array,
  T: number,
  pos0: number,
  H: number,
  Hkv: number,
  D: number,
): void {
  const width = (H + 2 * Hkv) * D;
  const kvWidth = Hkv * D;
  const group = H / Hkv; // query heads per kv head
  const scale = 1 / Math.sqrt(D);

  storeKv(kCache, vCache, qkv, layerOffset, T, pos0, H, Hkv, D);

  for (let t = 0; t < T; t++) {
    const n = pos0 + t + 1; // causal: positions 0 .. pos0 + t
    for (let h = 0; h < H; h++) {
      const q = t * width + h * D;
      const g = Math.floor(h / group) * D; // offset of the kv head inside a cache row

      // scores[p] = q . k[p] / sqrt(D)
      for (let p = 0; p < n; p++) {
        const k = layerOffset + p * kvWidth + g;
        let dot = 0;
        for (let d = 0; d < D; d++) dot += qkv[q + d] * kCache[k + d];
        scores[p] = dot * scale;
      }
      softmaxInPlace(scores, n);

      // out[t, h] = sum_p scores[p] v[p]
      const o = t * H * D + h * D;
      for (let d = 0; d < D; d++) out[o + d] = 0;
      for (let p = 0; p < n; p++) {
        const v = layerOffset + p * kvWidth + g;
        const a = scores[p];
        for (let d = 0; d < D; d++) out[o + d] += a * vCache[v + d];
      }
    }
  }
}

const GELU_SCALE = Math.sqrt(2 / Math.PI);

/** out[i] = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) for i < n: GPT-2's tanh GELU. */
export function geluForward(out: Float32Array, inp: Float32Array, n: number): void {
  for (let i = 0; i < n; i++) {
    const x = inp[i];
    out[i] = 0.5 * x * (1 + Math.tanh(GELU_SCALE * (x + 0.044715 * x * x * x)));
  }
}

/** out (T, F) = silu(gate) * up for inp (T, 2F) rows [gate (F) | up (F)], silu(x) = x / (1 + e^-x). */
export function siluMulForward(out: Float32Array, inp: Float32Array, T: number, F: number): void {
  for (let t = 0; t < T; t++) {
    const o = t * F;
    const r = 2 * t * F;
    for (let f = 0; f < F; f++) {
      const g = inp[r + f];
      out[o + f] = (g / (1 + Math.exp(-g))) * inp[r + F + f];
    }
  }
}

/** out[i] += inp[i] for i < n: the residual stream. */
export function addInPlace(out: Float32Array, inp: Float32Array, n: number): void {
  for (let i = 0; i < n; i++) out[i] += inp[i];
}
