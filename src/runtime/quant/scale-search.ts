/**
 * The scale searches of ggml's k-quants (ggml-quants.c: nearest_int, make_qkx2_quants,
 * make_qx_quants), which pick a sub-block's scale (and min) by trying a few candidate scales and
 * keeping the one with the least weighted error. ggml computes in float32; so does this file,
 * rounding after every operation with Math.fround, so that a row quantizes to the bytes llama.cpp's
 * reference quantizer writes (up to compilers that contract a*b+c into one rounding).
 */

const fr = Math.fround;
/** 0.1f, the step between the candidate scales. */
export const TENTH = fr(0.1);
/** GROUP_MAX_EPS: a group whose largest magnitude is below it is all zeros. */
export const GROUP_MAX_EPS = fr(1e-15);

/**
 * ggml's nearest_int for a float32 `x` with |x| <= 2^22: the nearest integer, ties to even (adding
 * 1.5 * 2^23 in float32 leaves no fraction bits, so the hardware rounding does the work).
 */
export function nearestInt(x: number): number {
  return fr(x + 12582912) - 12582912;
}

/**
 * make_qkx2_quants: an asymmetric n-element group x[x0 ..] as scale * L + min with L in 0 .. nmax,
 * min <= 0, minimising sum w |error| (useMad) or sum w error^2. Writes L[l0 ..] (n), returns the
 * scale, and `minOut[0]` = -min (ggml's `the_min`, a non-negative offset).
 */
export function makeQkx2Quants(
  n: number,
  nmax: number,
  x: Float32Array,
  x0: number,
  weights: Float32Array, // (n)
  L: Uint8Array,
  l0: number,
  minOut: Float32Array, // (1)
  Laux: Uint8Array, // (n) scratch
  rmin: number,
  rdelta: number,
  nstep: number,
  useMad: boolean,
): number {
  let min = x[x0];
  let max = x[x0];
  let sumW = weights[0];
  let sumX = fr(sumW * x[x0]);
  for (let i = 1; i < n; i++) {
    const v = x[x0 + i];
    if (v < min) min = v;
    if (v > max) max = v;
    sumW = fr(sumW + weights[i]);
    sumX = fr(sumX + fr(weights[i] * v));
  }
  if (min > 0) min = 0;
  if (max === min) {
    L.fill(0, l0, l0 + n);
    minOut[0] = -min;
    return 0;
  }
  const range = fr(max - min);
  let iscale = fr(nmax / range);
  let scale = fr(1 / iscale);
  let bestError = 0;
  for (let i = 0; i < n; i++) {
    const l = Math.max(0, Math.min(nmax, nearestInt(fr(iscale * fr(x[x0 + i] - min)))));
    L[l0 + i] = l;
    bestError = fr(bestError + fr(weights[i] * errorOf(fr(fr(fr(scale * l) + min) - x[x0 + i]), useMad)));
  }
  if (nstep < 1) {
    minOut[0] = -min;
    return scale;
  }
  for (let is = 0; is <= nstep; is++) {
    iscale = fr(fr(fr(rmin + fr(rdelta * is)) + nmax) / range);
    let sumL = 0;
    let sumL2 = 0;
    let sumXL = 0;
    for (let i = 0; i < n; i++) {
      const l = Math.max(0, Math.min(nmax, nearestInt(fr(iscale * fr(x[x0 + i] - min)))));
      Laux[i] = l;
      const wl = fr(weights[i] * l);
      sumL = fr(sumL + wl);
      sumL2 = fr(sumL2 + fr(wl * l));
      sumXL = fr(sumXL + fr(wl * x[x0 + i]));
    }
    const D = fr(fr(sumW * sumL2) - fr(sumL * sumL));
    if (D > 0) {
      let thisScale = fr(fr(fr(sumW * sumXL) - fr(sumX * sumL)) / D);
      let thisMin = fr(fr(fr(sumL2 * sumX) - fr(sumL * sumXL)) / D);
      if (thisMin > 0) {
        thisMin = 0;
        thisScale = fr(sumXL / sumL2);
      }
      let curError = 0;
      for (let i = 0; i < n; i++) {
        curError = fr(curError + fr(weights[i] * errorOf(fr(fr(fr(thisScale * Laux[i]) + thisMin) - x[x0 + i]), useMad)));
      }
      if (curError < bestError) {
        L.set(Laux.subarray(0, n), l0);
        bestError = curError;
        scale = thisScale;
        min = thisMin;
      }
    }
  }
  minOut[0] = -min;
  return scale;
}

function errorOf(diff: number, useMad: boolean): number {
  return useMad ? Math.abs(diff) : fr(diff * diff);
}

/**
 * make_qx_quants with rmse_type 1 and no importance weights (what quantize_row_q6_K_ref uses): a
 * symmetric n-element group x[x0 ..] as scale * (L - nmax) with L in 0 .. 2 nmax - 1, minimising
 * sum x^2 error^2 over 19 candidate scales. Writes L[l0 ..] (n) and returns the scale (negative
 * when the largest magnitude is negative, as in ggml).
 */
export function makeQxQuants(n: number, nmax: number, x: Float32Array, x0: number, L: Uint8Array, l0: number): number {
  let max = 0;
  let amax = 0;
  for (let i = 0; i < n; i++) {
    const ax = Math.abs(x[x0 + i]);
    if (ax > amax) {
      amax = ax;
      max = x[x0 + i];
    }
  }
  if (amax < GROUP_MAX_EPS) {
    L.fill(0, l0, l0 + n);
    return 0;
  }
  const quantize = (iscale: number, i: number) => Math.max(-nmax, Math.min(nmax - 1, nearestInt(fr(iscale * x[x0 + i]))));
  // the weighted sums sum w x l and sum w l^2 for one candidate, w = x^2
  const sums = (iscale: number): [number, number] => {
    let sumlx = 0;
    let suml2 = 0;
    for (let i = 0; i < n; i++) {
      const v = x[x0 + i];
      const l = quantize(iscale, i);
      const w = fr(v * v);
      sumlx = fr(sumlx + fr(fr(w * v) * l));
      suml2 = fr(suml2 + fr(fr(w * l) * l));
    }
    return [sumlx, suml2];
  };
  let iscale = fr(-nmax / max);
  for (let i = 0; i < n; i++) L[l0 + i] = quantize(iscale, i) + nmax;
  let [sumlx, suml2] = sums(iscale);
  let scale = suml2 !== 0 ? fr(sumlx / suml2) : 0;
  let best = fr(scale * sumlx);
  for (let is = -9; is <= 9; is++) {
    if (is === 0) continue;
    iscale = fr(-fr(nmax + fr(TENTH * is)) / max);
    [sumlx, suml2] = sums(iscale);
    if (suml2 > 0 && fr(sumlx * sumlx) > fr(best * suml2)) {
      for (let i = 0; i < n; i++) L[l0 + i] = quantize(iscale, i) + nmax;
      scale = fr(sumlx / suml2);
      best = fr(scale * sumlx);
    }
  }
  return scale;
}
