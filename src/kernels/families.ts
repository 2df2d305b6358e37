// The kernel families ops call through Kernels: activation, batchnorm, pooling, reductions, row normalization.
//
// Each family has one file under src/kernels/ that owns its dispatch (WebAssembly SIMD or plain loop; for BatchNorm
// also matrix or plane layout) and exports two implementations: `<family>Loops` (runs anywhere) and
// `<family>Simd()` (WebAssembly SIMD on the shared heap, null where it cannot load; it runs the loops itself for
// shapes its kernels do not take). Every implementation gives the same bits as the loops, except the SIMD sigmoid
// (within 2 float32 ulps of the float64 formula). Arrays are float32 data in NCHW order; `out` arrays are written
// in full over the range named, never past it.

/** The activation fused after BatchNorm (null: none). */
export type BnAct = 'relu' | 'sigmoid' | null;

/** Elementwise activations and their gradients. Gradients are written (not added) into gx; out may be x. */
export interface ActivationKernels {
  /** out = max(x, 0) on the float bits: a set sign bit (negative, -0, a NaN with its sign bit set) gives +0. */
  relu(x: Float32Array, out: Float32Array): void;
  /** gx = g where y > 0, else +0 (y is relu's output, whose bits are >= 0; a NaN y passes g). */
  reluGrad(g: Float32Array, y: Float32Array, gx: Float32Array): void;
  /** out = 1 / (1 + e^-x): float64 Math.exp in the loops; the SIMD kernel is within 2 ulps (0 below x = -88.4). */
  sigmoid(x: Float32Array, out: Float32Array): void;
  /** gx = g * y * (1 - y) in float64, one rounding (y is sigmoid's output). */
  sigmoidGrad(g: Float32Array, y: Float32Array, gx: Float32Array): void;
  /** out = tanh(x). */
  tanh(x: Float32Array, out: Float32Array): void;
  /** gx = g * (1 - y^2) in float64, one rounding (y is tanh's output). */
  tanhGrad(g: Float32Array, y: Float32Array, gx: Float32Array): void;
}

/** Where a BatchNorm kernel works: x viewed as (N, C, S) (S = 1 for (N, C) input), samples [n0, n1). */
export interface BnSpan {
  C: number;
  S: number;
  n0: number;
  n1: number;
}

/** Per-channel coefficients of the input gradient dx = a[c] dy + b[c] x + k[c]. */
export interface BnGradCoef {
  a: Float64Array;
  b: Float64Array;
  k: Float64Array;
}

/** One BatchNorm backward (see BatchNormKernels.backward). */
export interface BnBackward {
  /** The op's input, its output (after the activation) and the gradient of that output. */
  x: Float32Array;
  y: Float32Array;
  dz: Float32Array;
  act: BnAct;
  C: number;
  S: number;
  /** Samples N, split in ranges of `vbs` samples with their own statistics (Ghost BN; vbs = N: one range). */
  N: number;
  vbs: number;
  /** Per range g, channel c: the mean used by the forward, at g * C + c. */
  means: Float64Array;
  /** Whether the per-channel sums are needed (batch statistics, or gamma / beta gradients). */
  sums: boolean;
  /** Where dx goes (null: x needs no gradient) and whether it is added to (else written in full). */
  dx: Float32Array | null;
  accumulate: boolean;
  /**
   * Called once per range g, in order, with sumDy[c] = sum(dy) and sumDyXc[c] = sum(dy (x - mean)) over it (zeros
   * when `sums` is false), dy being the gradient before the activation; returns the coefficients of dx.
   */
  coefficients(g: number, sumDy: Float64Array, sumDyXc: Float64Array): BnGradCoef;
}

/** BatchNorm's passes over the data; the op (src/ops/norm/batchnorm.ts) owns the per-channel algebra. */
export interface BatchNormKernels {
  /**
   * mean[c] and biased variance[c] = sum((x - mean)^2) / m over the span (m = (n1 - n0) S), in float64: shifted
   * sums about the channel's first value, with an exact second pass where they cancel (never E[x^2] - E[x]^2).
   */
  stats(x: Float32Array, span: BnSpan, mean: Float64Array, variance: Float64Array): void;
  /** y = act(f32(x * scale[c] + shift[c])) over the span (float64 product and sum, one rounding, then act). */
  affine(x: Float32Array, y: Float32Array, span: BnSpan, coef: { scale: Float64Array; shift: Float64Array }, act: BnAct): void;
  /** sumDy[c] = sum(dy), sumDyXc[c] = sum(dy * (x - mean[c])) over the span, float64. */
  gradSums(x: Float32Array, dy: Float32Array, span: BnSpan, mean: Float64Array, out: { sumDy: Float64Array; sumDyXc: Float64Array }): void;
  /** dx = f32(a[c] dy + b[c] x + k[c]) over the span, written, or added with `accumulate`. */
  gradApply(x: Float32Array, dy: Float32Array, dx: Float32Array, span: BnSpan, coef: BnGradCoef & { accumulate: boolean }): void;
  /**
   * The whole backward of one BatchNorm (+ activation) call: dy = the activation's gradient of dz (dz itself
   * without one), then per range the sums, `coefficients`, and dx. The family picks how: the (N, C) SIMD kernels
   * derive dy on the fly inside both passes; elsewhere dy is materialized once, as the separate activation's
   * backward would.
   */
  backward(p: BnBackward): void;
}

/** relu fused with 2x2 stride-2 max pooling over planes of h x w (windows that tile the plane, padding 0). */
export interface PoolingKernels {
  /**
   * out = max of relu(x) over each window, arg = the flat index in x of the first largest (relu'd values compared
   * as integer bits, which order like the floats, NaN above +inf), over `planes` planes of h x w.
   */
  reluMaxPool2(x: Float32Array, geom: PoolGeom2, out: Float32Array, arg: Int32Array): void;
  /** gx = g at arg where out > 0 (or NaN), +0 everywhere else: every element of gx written. */
  reluMaxPool2Grad(g: Float32Array, out: Float32Array, arg: Int32Array, geom: PoolGeom2, gx: Float32Array): void;
}

/** planes of h x w values (h, w >= 2); windows are (h >> 1) x (w >> 1) per plane. */
export interface PoolGeom2 {
  planes: number;
  h: number;
  w: number;
}

/** Bias gradients: sums over all but one dimension, in float64 and in a fixed order. */
export interface ReductionKernels {
  /** sums[j] = sum over rows i of x[i, j] for x (rows, C), each column summed in row order; written. */
  columnSums(x: Float32Array, rows: number, C: number, sums: Float64Array): void;
  /**
   * s[c] += sum over n of the sum of plane (n, c) of g (N, C, plane), each plane's sum formed with four
   * accumulators by index mod 4 (the tail into the first), added left to right.
   */
  planeSums(g: Float32Array, geom: { N: number; C: number; plane: number }, s: Float64Array): void;
}

/**
 * A row of `segs * segLen` contiguous values normalized together; segment p of row r is scaled by
 * gamma[(r % period) * segs + p]. LayerNorm: segLen 1, segs = row length, period 1 (one gamma per position).
 * GroupNorm: a row is one (sample, group), segs = channels per group, segLen = H*W, period = groups.
 */
export interface RowGeom {
  rows: number;
  segs: number;
  segLen: number;
  period: number;
}

/** LayerNorm's and GroupNorm's passes: statistics per contiguous row, per-segment affine, closed-form backward. */
export interface RowNormKernels {
  /**
   * Per row: mean, invstd = 1/sqrt(var + eps) (biased variance, float64), then y = (x - mean) * invstd * gamma + beta
   * per segment (gamma = 1, beta = 0 when null). Saves mean and invstd per row.
   */
  forward(
    x: Float32Array, y: Float32Array, geom: RowGeom, affine: { gamma: Float32Array | null; beta: Float32Array | null; eps: number },
    saved: { mean: Float64Array; invstd: Float64Array },
  ): void;
  /**
   * Backward per row with g = dy * gamma (per segment), x_hat = (x - mean) invstd, M values per row:
   * dx = invstd / M * (M g - sum(g) - x_hat sum(g x_hat)); dgamma[seg] += sum(dy x_hat); dbeta[seg] += sum(dy).
   * Outputs that are null are skipped; all are accumulated.
   */
  backward(
    x: Float32Array, dy: Float32Array, geom: RowGeom, gamma: Float32Array | null, saved: { mean: Float64Array; invstd: Float64Array },
    out: { dx: Float32Array | null; dgamma: Float32Array | null; dbeta: Float32Array | null },
  ): void;
}
