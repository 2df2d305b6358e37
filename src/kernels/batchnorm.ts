// The BatchNorm family: where each pass runs (plane layout S > 1 or matrix layout S = 1; WebAssembly SIMD or loop) and the backward's order.
//
// A reader following BatchNorm's numbers: the op (src/ops/norm/batchnorm.ts) computes per-channel coefficients and
// calls the family; this file picks the kernel; ./loops/batchnorm.ts holds the loops and ./simd/batchnorm.ts the
// WebAssembly kernels, which give the loops' bits.
import type { ActivationKernels, BatchNormKernels, BnAct, BnBackward, BnSpan } from './families.js';
import { activationLoops, activationSimd, activationSimdRaw } from './activation.js';
import * as loops from './loops/batchnorm.js';
import { createBatchNormSimd, type BatchNormSimd } from './simd/batchnorm.js';
import { allocUninit } from '../tensor/alloc.js';
import { releaseBuffer } from '../tensor/pool.js';

/** v = act(v) in place, with the activation family's kernels (the same values as the separate activation op). */
function applyAct(kernels: ActivationKernels, act: 'relu' | 'sigmoid', v: Float32Array): void {
  if (act === 'relu') kernels.relu(v, v);
  else kernels.sigmoid(v, v);
}

/** The values of the span within x's flat array. */
const rangeOf = (a: Float32Array, { C, S, n0, n1 }: BnSpan) => a.subarray(n0 * C * S, n1 * C * S);

/** The plain loops (any runtime). */
export const batchnormLoops: BatchNormKernels = {
  stats(x, span, mean, variance) {
    if (span.S === 1) loops.matrixStatsSums(x, span, mean, variance);
    else loops.planeStatsSums(x, span, mean, variance);
    loops.finishStats(x, span, mean, variance);
  },
  affine(x, y, span, { scale, shift }, act) {
    if (span.S === 1) loops.matrixAffine(x, y, span, scale, shift);
    else loops.planeAffine(x, y, span, scale, shift);
    if (act !== null) applyAct(activationLoops, act, rangeOf(y, span));
  },
  gradSums(x, dy, span, mean, out) {
    if (span.S === 1) loops.matrixGradSums(x, dy, span, mean, out);
    else loops.planeGradSums(x, dy, span, mean, out);
  },
  gradApply(x, dy, dx, span, coef) {
    if (span.S === 1 && !coef.accumulate) loops.matrixGradApply(x, dy, dx, span, coef);
    else loops.gradApply(x, dy, dx, span, coef);
  },
  backward: (p) => backward(batchnormLoops, activationLoops, null, p),
};

let simd: BatchNormKernels | null | undefined;

/**
 * BatchNorm on WebAssembly SIMD (float64 lanes, the loops' order: the same bits; ~35% faster affine, and the
 * (N, C) layout with the activation fused), or null where it cannot load. Shapes the kernels do not take (planes
 * under 32 values, C not a multiple of 4 for (N, C), an accumulated gradient) run the loops; an activation is
 * then applied by the SIMD activation family, as the separate op would be.
 */
export function batchnormSimd(): BatchNormKernels | null {
  if (simd !== undefined) return simd;
  const act = activationSimd();
  const rawAct = activationSimdRaw();
  const raw = act && rawAct && createBatchNormSimd(rawAct);
  if (!act || !raw) return (simd = null);
  const k: BatchNormKernels = {
    stats(x, span, mean, variance) {
      if (!raw.stats(x, span, mean, variance)) {
        if (span.S === 1) loops.matrixStatsSums(x, span, mean, variance);
        else loops.planeStatsSums(x, span, mean, variance);
      }
      loops.finishStats(x, span, mean, variance);
    },
    affine(x, y, span, { scale, shift }, a) {
      // (N, C): the activation fused into the kernel.
      if (span.S === 1 && raw.affine(x, y, span, scale, shift, a)) return;
      if (!raw.affine(x, y, span, scale, shift, null)) batchnormLoops.affine(x, y, span, { scale, shift }, null);
      if (a !== null) applyAct(act, a, rangeOf(y, span));
    },
    gradSums(x, dy, span, mean, out) {
      if (!raw.gradSums(dy, x, dy, null, span, mean, out)) batchnormLoops.gradSums(x, dy, span, mean, out);
    },
    gradApply(x, dy, dx, span, coef) {
      if (coef.accumulate || !raw.gradApply(dy, x, dy, null, dx, span, coef)) batchnormLoops.gradApply(x, dy, dx, span, coef);
    },
    backward: (p) => backward(k, act, raw, p),
  };
  return (simd = k);
}

let sums = new Float64Array(0);

/**
 * BatchNormKernels.backward on a family's passes. With an activation, dy (the gradient before it) is materialized
 * once, as the separate activation op's backward would, except where the (N, C) SIMD kernels take the shape:
 * they derive dy on the fly inside both passes (`fused`).
 */
function backward(bn: BatchNormKernels, act: ActivationKernels, fused: BatchNormSimd | null, p: BnBackward): void {
  const { x, y, dz, C, S, N, vbs, means, dx, accumulate } = p;
  if (sums.length < 2 * C) sums = new Float64Array(2 * C);
  sums.fill(0, 0, 2 * C);
  const out = { sumDy: sums.subarray(0, C), sumDyXc: sums.subarray(C, 2 * C) };
  const useFused = p.act !== null && fused !== null && S === 1 && !accumulate && fused.matrixApplies(C);
  const dy = p.act === null || useFused ? dz : actGrad(act, p.act, dz, y);
  for (let g = 0, n0 = 0; n0 < N; g++, n0 += vbs) {
    const span = { C, S, n0, n1: Math.min(N, n0 + vbs) };
    const mean = means.subarray(g * C, (g + 1) * C);
    if (useFused) {
      fused.matrixGrad(dz, x, y, p.act, dx, { ...span, mean }, out, () => p.coefficients(g, out.sumDy, out.sumDyXc));
      continue;
    }
    // Eval mode needs no reductions for dx alone (dx = gamma * invstd * dy).
    if (p.sums) bn.gradSums(x, dy, span, mean, out);
    const coef = p.coefficients(g, out.sumDy, out.sumDyXc);
    if (dx) bn.gradApply(x, dy, dx, span, { ...coef, accumulate });
  }
  if (dy !== dz) releaseBuffer(dy);
}

/** The gradient before the activation from dz (after it) and its output y, in a buffer handed back after use. */
function actGrad(kernels: ActivationKernels, act: Exclude<BnAct, null>, dz: Float32Array, y: Float32Array): Float32Array {
  const out = allocUninit(dz.length);
  if (act === 'relu') kernels.reluGrad(dz, y, out);
  else kernels.sigmoidGrad(dz, y, out);
  return out;
}
