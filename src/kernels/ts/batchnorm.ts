// BatchNorm kernels over NCHW planes, one channel at a time: float64 statistics, affine apply, closed-form backward.
//
// Layout: x is viewed as (N, C, S) with S = 1 for (N, C), L for (N, C, L), H*W for (N, C, H, W); channel c of
// sample n is the contiguous plane x[(n*C + c)*S .. +S). Every kernel works on one channel and a sample range
// [n0, n1) (a Ghost BN sub-batch or the whole batch), so the op runs stats -> coefficients -> apply for one
// channel while its N planes (200 KB for (64,64,28,28)) are still in L2: only the first pass reads main memory.
// Sums are float64 (JavaScript numbers) with two accumulators each (breaks the add dependency chain).
// Nothing here allocates and there are no per-element closures.

/**
 * Mean and biased variance of channel c over samples [n0, n1), accumulated in float64: out[0] = mean,
 * out[1] = sum((x - mean)^2) / m.
 *
 * One pass sums d = x - K and d^2 about a shift K (the channel's first value), then M2 = sum(d^2) - sum(d)^2/m.
 * This is the shifted-data algorithm, not E[x^2] - E[x]^2: the cancellation it suffers grows with ((mean - K)/std)^2
 * only, so 1e6 + 1e-2 noise loses nothing. When more than 6 of float64's 16 digits cancel (K an extreme outlier,
 * or a constant channel), an exact second pass sum((x - mean)^2) is run instead, so the result always keeps
 * more digits than float32 has. Why not always two passes: JavaScript pays ~1 ns per element per pass, and the
 * second pass was 40% of the forward time.
 */
export function channelStats(x: Float32Array, C: number, S: number, c: number, n0: number, n1: number, out: Float64Array): void {
  const m = (n1 - n0) * S;
  const step = C * S;
  const k = x[(n0 * C + c) * S];
  let s0 = 0;
  let s1 = 0;
  let q0 = 0;
  let q1 = 0;
  if (S === 1) {
    // (N, C): one value per sample, stride C.
    for (let i = n0 * C + c, end = n1 * C; i < end; i += C) {
      const d = x[i] - k;
      s0 += d;
      q0 += d * d;
    }
  } else {
    for (let base = (n0 * C + c) * S, end = n1 * step; base < end; base += step) {
      const lim = base + S - 1;
      let i = base;
      for (; i < lim; i += 2) {
        const d0 = x[i] - k;
        const d1 = x[i + 1] - k;
        s0 += d0;
        s1 += d1;
        q0 += d0 * d0;
        q1 += d1 * d1;
      }
      if (i < base + S) {
        const d = x[i] - k;
        s0 += d;
        q0 += d * d;
      }
    }
  }
  const sum = s0 + s1;
  const sq = q0 + q1;
  const mean = k + sum / m;
  let m2 = sq - (sum * sum) / m;
  if (!(m2 > sq * 1e-6)) m2 = channelSqDev(x, C, S, c, n0, n1, mean);
  out[0] = mean;
  out[1] = m2 / m;
}

/** sum((x - mean)^2) of channel c over [n0, n1): the exact second pass of the two-pass variance. */
export function channelSqDev(x: Float32Array, C: number, S: number, c: number, n0: number, n1: number, mean: number): number {
  const step = C * S;
  let s0 = 0;
  let s1 = 0;
  if (S === 1) {
    for (let i = n0 * C + c, end = n1 * C; i < end; i += C) {
      const d = x[i] - mean;
      s0 += d * d;
    }
    return s0;
  }
  for (let base = (n0 * C + c) * S, end = n1 * step; base < end; base += step) {
    const lim = base + S - 1;
    let i = base;
    for (; i < lim; i += 2) {
      const d0 = x[i] - mean;
      const d1 = x[i + 1] - mean;
      s0 += d0 * d0;
      s1 += d1 * d1;
    }
    if (i < base + S) {
      const d = x[i] - mean;
      s0 += d * d;
    }
  }
  return s0 + s1;
}

/** y = x * scale + shift on channel c over samples [n0, n1). BN's whole forward map once scale/shift are known. */
export function channelAffine(
  x: Float32Array,
  y: Float32Array,
  C: number,
  S: number,
  c: number,
  n0: number,
  n1: number,
  scale: number,
  shift: number,
): void {
  if (S === 1) {
    for (let i = n0 * C + c, end = n1 * C; i < end; i += C) y[i] = x[i] * scale + shift;
    return;
  }
  const step = C * S;
  for (let base = (n0 * C + c) * S, end = n1 * step; base < end; base += step) {
    const lim = base + S;
    for (let i = base; i < lim; i++) y[i] = x[i] * scale + shift;
  }
}

/**
 * Backward reductions of channel c over [n0, n1): out[0] = sum(dy), out[1] = sum(dy * (x - mean)).
 * With x_hat = (x - mean) * invstd, sum(dy * x_hat) = invstd * out[1]; computing x - mean instead of reading a
 * saved x_hat keeps the forward from writing a second full-size buffer.
 */
export function channelGradSums(
  x: Float32Array,
  dy: Float32Array,
  C: number,
  S: number,
  c: number,
  n0: number,
  n1: number,
  mean: number,
  out: Float64Array,
): void {
  let a0 = 0;
  let a1 = 0;
  let b0 = 0;
  let b1 = 0;
  if (S === 1) {
    for (let i = n0 * C + c, end = n1 * C; i < end; i += C) {
      const g = dy[i];
      a0 += g;
      b0 += g * (x[i] - mean);
    }
  } else {
    const step = C * S;
    for (let base = (n0 * C + c) * S, end = n1 * step; base < end; base += step) {
      const lim = base + S - 1;
      let i = base;
      for (; i < lim; i += 2) {
        const g0 = dy[i];
        const g1 = dy[i + 1];
        a0 += g0;
        a1 += g1;
        b0 += g0 * (x[i] - mean);
        b1 += g1 * (x[i + 1] - mean);
      }
      if (i < base + S) {
        const g = dy[i];
        a0 += g;
        b0 += g * (x[i] - mean);
      }
    }
  }
  out[0] = a0 + a1;
  out[1] = b0 + b1;
}

/**
 * dx = a * dy + b * x + k on channel c over [n0, n1): the closed-form BN input gradient
 * gamma*invstd/m * (m*dy - sum(dy) - x_hat*sum(dy*x_hat)) with x_hat expanded to (x - mean)*invstd, i.e.
 * a = gamma*invstd, b = -a*invstd*sum(dy*x_hat)/m, k = -a*sum(dy)/m - b*mean. Eval mode is a alone (b = k = 0).
 * With `accumulate` the result is added to dx (autograd accumulation), otherwise written.
 */
export function channelGradApply(
  x: Float32Array,
  dy: Float32Array,
  dx: Float32Array,
  C: number,
  S: number,
  c: number,
  n0: number,
  n1: number,
  coef: { a: number; b: number; k: number; accumulate: boolean },
): void {
  const { a, b, k, accumulate } = coef;
  const step = C * S;
  if (S === 1) {
    if (accumulate) for (let i = n0 * C + c, end = n1 * C; i < end; i += C) dx[i] += a * dy[i] + b * x[i] + k;
    else for (let i = n0 * C + c, end = n1 * C; i < end; i += C) dx[i] = a * dy[i] + b * x[i] + k;
    return;
  }
  for (let base = (n0 * C + c) * S, end = n1 * step; base < end; base += step) {
    const lim = base + S;
    if (accumulate) for (let i = base; i < lim; i++) dx[i] += a * dy[i] + b * x[i] + k;
    else for (let i = base; i < lim; i++) dx[i] = a * dy[i] + b * x[i] + k;
  }
}
