// BatchNorm's plain loops over NCHW data: per-channel statistics, affine map, backward sums and input gradient, plane and matrix layouts.
//
// Layout: x is viewed as (N, C, S) with S = 1 for (N, C), L for (N, C, L), H*W for (N, C, H, W); channel c of
// sample n is the contiguous plane x[(n*C + c)*S .. +S). Every loop covers all channels over a sample range
// [n0, n1) (a Ghost BN sub-batch, or the whole batch). Planes are visited in memory order (sample-major): measured
// 20-25% faster on (64,64,28,28) than channel by channel, because 3 KB planes 200 KB apart defeat the prefetcher
// even though a channel would then stay in L2 between passes. For S = 1 the input is a row-major matrix and
// channels are columns, handled four at a time (matrix* below). Sums are float64 (JavaScript numbers) with
// several accumulators to break the add chains. The WebAssembly kernels (../simd/batchnorm.ts) keep these
// accumulators and this order, so they give the same bits.
// Nothing here allocates and there are no per-element closures.
//
// Why the 8-wide blocks that load everything before storing anything: V8 does not hoist a typed array's map,
// length and data pointer out of a loop, and after every element store it reloads them for the next access
// (a store could, as far as it knows, have changed them). Loading 8 values, then storing 8, pays those checks
// once per block instead of once per element: measured 20-25% faster for the writing passes.

import type { BnGradCoef, BnSpan } from '../families.js';

/**
 * sums[c] = sum(x - K), sqs[c] = sum((x - K)^2) over the span, K = the channel's first value in it, S > 1: per
 * plane, the even and the odd values of each block of 8 in two chains (the tail into the first), as the SIMD
 * kernel's two float64 lanes.
 */
export function planeStatsSums(x: Float32Array, span: BnSpan, sums: Float64Array, sqs: Float64Array): void {
  const { C, S, n0, n1 } = span;
  sums.fill(0, 0, C);
  sqs.fill(0, 0, C);
  for (let n = n0; n < n1; n++) {
    for (let c = 0; c < C; c++) {
      const k = x[(n0 * C + c) * S];
      const o = (n * C + c) * S;
      const lim = o + S - 7;
      let s0 = 0;
      let s1 = 0;
      let q0 = 0;
      let q1 = 0;
      let i = o;
      for (; i < lim; i += 8) {
        const d0 = x[i] - k;
        const d1 = x[i + 1] - k;
        const d2 = x[i + 2] - k;
        const d3 = x[i + 3] - k;
        const d4 = x[i + 4] - k;
        const d5 = x[i + 5] - k;
        const d6 = x[i + 6] - k;
        const d7 = x[i + 7] - k;
        // Even and odd values in two chains: the SIMD kernel holds them in its two float64 lanes.
        s0 += d0 + d2 + d4 + d6;
        s1 += d1 + d3 + d5 + d7;
        q0 += d0 * d0 + d2 * d2 + d4 * d4 + d6 * d6;
        q1 += d1 * d1 + d3 * d3 + d5 * d5 + d7 * d7;
      }
      for (; i < o + S; i++) {
        const d = x[i] - k;
        s0 += d;
        q0 += d * d;
      }
      sums[c] += s0 + s1;
      sqs[c] += q0 + q1;
    }
  }
}

/**
 * Turns the shifted sums left in mean / variance by a *StatsSums function into mean[c] and the biased variance[c].
 *
 * One pass summed d = x - K and d^2 about a shift K (the channel's first value), then M2 = sum(d^2) - sum(d)^2/m.
 * This is the shifted-data algorithm, not E[x^2] - E[x]^2: its cancellation grows with ((mean - K)/std)^2 only,
 * so 1e6 + 1e-2 noise loses nothing. When more than 6 of float64's 16 digits cancel (K an extreme outlier, or a
 * constant channel) an exact second pass sum((x - mean)^2) replaces it, so the result always keeps more digits
 * than float32 has. Why not always two passes: JavaScript pays ~1 ns per element per pass, and the second pass
 * was a third of the forward time.
 */
export function finishStats(x: Float32Array, span: BnSpan, mean: Float64Array, variance: Float64Array): void {
  const { C, S, n0, n1 } = span;
  const m = (n1 - n0) * S;
  for (let c = 0; c < C; c++) {
    const sum = mean[c];
    const sq = variance[c];
    const mu = x[(n0 * C + c) * S] + sum / m;
    let m2 = sq - (sum * sum) / m;
    if (!(m2 > sq * 1e-6)) m2 = channelSqDev(x, span, c, mu);
    mean[c] = mu;
    variance[c] = m2 / m;
  }
}

/** sum((x - mean)^2) of channel c over the span: the exact second pass of the two-pass variance. */
function channelSqDev(x: Float32Array, span: BnSpan, c: number, mean: number): number {
  const { C, S, n0, n1 } = span;
  let s = 0;
  for (let n = n0; n < n1; n++) {
    const o = (n * C + c) * S;
    for (let i = o; i < o + S; i++) {
      const d = x[i] - mean;
      s += d * d;
    }
  }
  return s;
}

/** y = f32(x * scale[c] + shift[c]) over the span, S > 1 (plane by plane, in load-8-then-store-8 blocks). */
export function planeAffine(x: Float32Array, y: Float32Array, span: BnSpan, scale: Float64Array, shift: Float64Array): void {
  const { C, S, n0, n1 } = span;
  for (let n = n0; n < n1; n++) {
    for (let c = 0; c < C; c++) {
      const a = scale[c];
      const b = shift[c];
      const o = (n * C + c) * S;
      const lim = o + S - 7;
      let i = o;
      for (; i < lim; i += 8) {
        const v0 = x[i];
        const v1 = x[i + 1];
        const v2 = x[i + 2];
        const v3 = x[i + 3];
        const v4 = x[i + 4];
        const v5 = x[i + 5];
        const v6 = x[i + 6];
        const v7 = x[i + 7];
        y[i] = v0 * a + b;
        y[i + 1] = v1 * a + b;
        y[i + 2] = v2 * a + b;
        y[i + 3] = v3 * a + b;
        y[i + 4] = v4 * a + b;
        y[i + 5] = v5 * a + b;
        y[i + 6] = v6 * a + b;
        y[i + 7] = v7 * a + b;
      }
      for (; i < o + S; i++) y[i] = x[i] * a + b;
    }
  }
}

/**
 * sumDy[c] = sum(dy), sumDyXc[c] = sum(dy * (x - mean[c])) over the span, S > 1: four accumulators per plane by
 * index mod 4 (the tail into the first), combined left to right.
 */
export function planeGradSums(
  x: Float32Array, dy: Float32Array, span: BnSpan, mean: Float64Array, out: { sumDy: Float64Array; sumDyXc: Float64Array },
): void {
  const { C, S, n0, n1 } = span;
  const { sumDy, sumDyXc } = out;
  sumDy.fill(0, 0, C);
  sumDyXc.fill(0, 0, C);
  for (let n = n0; n < n1; n++) {
    for (let c = 0; c < C; c++) {
      const mu = mean[c];
      const o = (n * C + c) * S;
      const lim = o + S - 3;
      let a0 = 0;
      let a1 = 0;
      let a2 = 0;
      let a3 = 0;
      let b0 = 0;
      let b1 = 0;
      let b2 = 0;
      let b3 = 0;
      let i = o;
      for (; i < lim; i += 4) {
        const g0 = dy[i];
        const g1 = dy[i + 1];
        const g2 = dy[i + 2];
        const g3 = dy[i + 3];
        a0 += g0;
        a1 += g1;
        a2 += g2;
        a3 += g3;
        b0 += g0 * (x[i] - mu);
        b1 += g1 * (x[i + 1] - mu);
        b2 += g2 * (x[i + 2] - mu);
        b3 += g3 * (x[i + 3] - mu);
      }
      for (; i < o + S; i++) {
        const g = dy[i];
        a0 += g;
        b0 += g * (x[i] - mu);
      }
      sumDy[c] += a0 + a1 + a2 + a3;
      sumDyXc[c] += b0 + b1 + b2 + b3;
    }
  }
}

/** dx = f32(a[c] * dy + b[c] * x + k[c]) over the span, any S, written or (accumulate) added. */
export function gradApply(x: Float32Array, dy: Float32Array, dx: Float32Array, span: BnSpan, coef: BnGradCoef & { accumulate: boolean }): void {
  const { C, S, n0, n1 } = span;
  const { a, b, k, accumulate } = coef;
  for (let n = n0; n < n1; n++) {
    for (let c = 0; c < C; c++) {
      const o = (n * C + c) * S;
      if (accumulate) {
        for (let i = o; i < o + S; i++) dx[i] += a[c] * dy[i] + b[c] * x[i] + k[c];
      } else {
        gradPlane(x, dy, dx, o, o + S, a[c], b[c], k[c]);
      }
    }
  }
}

/** dx[i] = a*dy[i] + b*x[i] + k over [o, end): the hot loop of the backward, in load-8-then-store-8 blocks. */
function gradPlane(x: Float32Array, dy: Float32Array, dx: Float32Array, o: number, end: number, a: number, b: number, k: number): void {
  let i = o;
  for (const lim = end - 7; i < lim; i += 8) {
    const g0 = dy[i];
    const g1 = dy[i + 1];
    const g2 = dy[i + 2];
    const g3 = dy[i + 3];
    const g4 = dy[i + 4];
    const g5 = dy[i + 5];
    const g6 = dy[i + 6];
    const g7 = dy[i + 7];
    const x0 = x[i];
    const x1 = x[i + 1];
    const x2 = x[i + 2];
    const x3 = x[i + 3];
    const x4 = x[i + 4];
    const x5 = x[i + 5];
    const x6 = x[i + 6];
    const x7 = x[i + 7];
    dx[i] = a * g0 + b * x0 + k;
    dx[i + 1] = a * g1 + b * x1 + k;
    dx[i + 2] = a * g2 + b * x2 + k;
    dx[i + 3] = a * g3 + b * x3 + k;
    dx[i + 4] = a * g4 + b * x4 + k;
    dx[i + 5] = a * g5 + b * x5 + k;
    dx[i + 6] = a * g6 + b * x6 + k;
    dx[i + 7] = a * g7 + b * x7 + k;
  }
  for (; i < end; i++) dx[i] = a * dy[i] + b * x[i] + k;
}

// (N, C) inputs (S = 1): a row-major matrix whose channels are columns. Four columns at a time, with their
// coefficients and sums in locals, so a row visit touches 16 contiguous bytes and no per-channel array is
// read or written per element.

/** Column sums of x - K and (x - K)^2 (K = the column's first value) over rows [n0, n1). */
export function matrixStatsSums(x: Float32Array, span: BnSpan, sums: Float64Array, sqs: Float64Array): void {
  const { C, n0, n1 } = span;
  let c = 0;
  for (; c + 3 < C; c += 4) {
    const b0 = n0 * C + c;
    const k0 = x[b0];
    const k1 = x[b0 + 1];
    const k2 = x[b0 + 2];
    const k3 = x[b0 + 3];
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    let q0 = 0;
    let q1 = 0;
    let q2 = 0;
    let q3 = 0;
    for (let i = b0, end = n1 * C; i < end; i += C) {
      const d0 = x[i] - k0;
      const d1 = x[i + 1] - k1;
      const d2 = x[i + 2] - k2;
      const d3 = x[i + 3] - k3;
      s0 += d0;
      s1 += d1;
      s2 += d2;
      s3 += d3;
      q0 += d0 * d0;
      q1 += d1 * d1;
      q2 += d2 * d2;
      q3 += d3 * d3;
    }
    sums[c] = s0;
    sums[c + 1] = s1;
    sums[c + 2] = s2;
    sums[c + 3] = s3;
    sqs[c] = q0;
    sqs[c + 1] = q1;
    sqs[c + 2] = q2;
    sqs[c + 3] = q3;
  }
  for (; c < C; c++) {
    const k = x[n0 * C + c];
    let s0 = 0;
    let q0 = 0;
    for (let i = n0 * C + c, end = n1 * C; i < end; i += C) {
      const d = x[i] - k;
      s0 += d;
      q0 += d * d;
    }
    sums[c] = s0;
    sqs[c] = q0;
  }
}

/** y = f32(scale[c] * x + shift[c]) per column c over rows [n0, n1). */
export function matrixAffine(x: Float32Array, y: Float32Array, span: BnSpan, scale: Float64Array, shift: Float64Array): void {
  const { C, n0, n1 } = span;
  let c = 0;
  for (; c + 3 < C; c += 4) {
    const a0 = scale[c];
    const a1 = scale[c + 1];
    const a2 = scale[c + 2];
    const a3 = scale[c + 3];
    const k0 = shift[c];
    const k1 = shift[c + 1];
    const k2 = shift[c + 2];
    const k3 = shift[c + 3];
    for (let i = n0 * C + c, end = n1 * C; i < end; i += C) {
      const v0 = x[i];
      const v1 = x[i + 1];
      const v2 = x[i + 2];
      const v3 = x[i + 3];
      y[i] = a0 * v0 + k0;
      y[i + 1] = a1 * v1 + k1;
      y[i + 2] = a2 * v2 + k2;
      y[i + 3] = a3 * v3 + k3;
    }
  }
  for (; c < C; c++) {
    const a0 = scale[c];
    const k0 = shift[c];
    for (let i = n0 * C + c, end = n1 * C; i < end; i += C) y[i] = a0 * x[i] + k0;
  }
}

/** dx = f32(a[c] * dy + b[c] * x + k[c]) per column c over rows [n0, n1) (written, not accumulated). */
export function matrixGradApply(x: Float32Array, dy: Float32Array, dx: Float32Array, span: BnSpan, coef: BnGradCoef): void {
  const { C, n0, n1 } = span;
  const { a, b, k } = coef;
  let c = 0;
  for (; c + 3 < C; c += 4) {
    const a0 = a[c];
    const a1 = a[c + 1];
    const a2 = a[c + 2];
    const a3 = a[c + 3];
    const b0 = b[c];
    const b1 = b[c + 1];
    const b2 = b[c + 2];
    const b3 = b[c + 3];
    const k0 = k[c];
    const k1 = k[c + 1];
    const k2 = k[c + 2];
    const k3 = k[c + 3];
    for (let i = n0 * C + c, end = n1 * C; i < end; i += C) {
      const g0 = dy[i];
      const g1 = dy[i + 1];
      const g2 = dy[i + 2];
      const g3 = dy[i + 3];
      const v0 = x[i];
      const v1 = x[i + 1];
      const v2 = x[i + 2];
      const v3 = x[i + 3];
      dx[i] = a0 * g0 + b0 * v0 + k0;
      dx[i + 1] = a1 * g1 + b1 * v1 + k1;
      dx[i + 2] = a2 * g2 + b2 * v2 + k2;
      dx[i + 3] = a3 * g3 + b3 * v3 + k3;
    }
  }
  for (; c < C; c++) {
    const a0 = a[c];
    const b0 = b[c];
    const k0 = k[c];
    for (let i = n0 * C + c, end = n1 * C; i < end; i += C) dx[i] = a0 * dy[i] + b0 * x[i] + k0;
  }
}

/** Column sums of dy and dy * (x - mean) over rows [n0, n1). */
export function matrixGradSums(
  x: Float32Array, dy: Float32Array, span: BnSpan, mean: Float64Array, out: { sumDy: Float64Array; sumDyXc: Float64Array },
): void {
  const { C, n0, n1 } = span;
  const { sumDy, sumDyXc } = out;
  let c = 0;
  for (; c + 3 < C; c += 4) {
    const m0 = mean[c];
    const m1 = mean[c + 1];
    const m2 = mean[c + 2];
    const m3 = mean[c + 3];
    let a0 = 0;
    let a1 = 0;
    let a2 = 0;
    let a3 = 0;
    let b0 = 0;
    let b1 = 0;
    let b2 = 0;
    let b3 = 0;
    for (let i = n0 * C + c, end = n1 * C; i < end; i += C) {
      const g0 = dy[i];
      const g1 = dy[i + 1];
      const g2 = dy[i + 2];
      const g3 = dy[i + 3];
      a0 += g0;
      a1 += g1;
      a2 += g2;
      a3 += g3;
      b0 += g0 * (x[i] - m0);
      b1 += g1 * (x[i + 1] - m1);
      b2 += g2 * (x[i + 2] - m2);
      b3 += g3 * (x[i + 3] - m3);
    }
    sumDy[c] = a0;
    sumDy[c + 1] = a1;
    sumDy[c + 2] = a2;
    sumDy[c + 3] = a3;
    sumDyXc[c] = b0;
    sumDyXc[c + 1] = b1;
    sumDyXc[c + 2] = b2;
    sumDyXc[c + 3] = b3;
  }
  for (; c < C; c++) {
    const mu = mean[c];
    let a0 = 0;
    let b0 = 0;
    for (let i = n0 * C + c, end = n1 * C; i < end; i += C) {
      const g = dy[i];
      a0 += g;
      b0 += g * (x[i] - mu);
    }
    sumDy[c] = a0;
    sumDyXc[c] = b0;
  }
}
