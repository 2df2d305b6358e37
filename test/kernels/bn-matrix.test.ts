// The (N, C) BatchNorm kernels with fused activations (bn-matrix.ts) against plain loops plus the separate activation kernels, bit for bit.
import { describe, expect, it } from 'vitest';
import {
  type BnAct,
  columnSumsSimd,
  matrixAffineSimd,
  matrixGradApplySimd,
  matrixGradSumsSimd,
  matrixSimdApplies,
  matrixStatsSimd,
  planeSumsSimd,
} from '../../src/kernels/ts/bn-matrix.js';
import { reluGradInto, reluInto, sigmoidGradInto, sigmoidInto, simdAvailable } from '../../src/kernels/ts/simd.js';
import { Rng } from '../../src/tensor/rng.js';

/** act(v) in place with the unfused kernels. */
function applyAct(act: BnAct, v: Float32Array): void {
  if (act === 'relu') reluInto(v, v);
  else if (act === 'sigmoid') sigmoidInto(v, v);
}

/** The gradient before the activation, as the unfused backward materializes it. */
function actGrad(act: BnAct, dz: Float32Array, y: Float32Array): Float32Array {
  if (act === null) return dz;
  const out = new Float32Array(dz.length);
  if (act === 'relu') reluGradInto(dz, y, out);
  else sigmoidGradInto(dz, y, out);
  return out;
}

const simd = matrixSimdApplies(4);

describe(`(N, C) BatchNorm kernels (${simd ? 'WebAssembly SIMD' : 'not available: loops run'})`, () => {
  it('apply only to C a multiple of 4 within the column arrays', () => {
    expect(matrixSimdApplies(6)).toBe(false);
    expect(matrixSimdApplies(0)).toBe(false);
    expect(matrixSimdApplies(1 << 20)).toBe(false);
    expect(matrixStatsSimd(new Float32Array(12), 6, 0, 2, new Float64Array(6), new Float64Array(6))).toBe(false);
  });

  // Rows over several chunks (C = 4: 8192 rows a chunk), wide rows, ranges not starting at row 0 (Ghost BN).
  for (const [N, C, n0, n1] of [
    [7, 4, 0, 7],
    [20000, 4, 3, 20000],
    [60, 100, 0, 60],
    [130, 256, 64, 130],
    [5, 4096, 1, 5],
  ]) {
    for (const act of [null, 'relu', 'sigmoid'] as BnAct[]) {
      it(`stats, affine + ${act ?? 'no activation'}, backward sums and dx match the loops on (${N}, ${C}), rows [${n0}, ${n1})`, () => {
        if (!simd) return;
        const rng = new Rng(N + C);
        const size = N * C;
        const x = new Float32Array(size).map(() => rng.normal() * 3 + 1);
        const dz = new Float32Array(size).map(() => rng.normal());
        const vec = () => new Float64Array(C).map(() => rng.normal());
        const [scale, shift, mean] = [vec(), vec(), vec()];
        const coef = { a: vec(), b: vec(), k: vec() };
        // Statistics: per column, in row order, about the first row's value.
        const sRef = new Float64Array(C);
        const qRef = new Float64Array(C);
        for (let c = 0; c < C; c++) {
          const k = x[n0 * C + c];
          for (let r = n0; r < n1; r++) {
            const d = x[r * C + c] - k;
            sRef[c] += d;
            qRef[c] += d * d;
          }
        }
        const s = new Float64Array(C);
        const q = new Float64Array(C);
        expect(matrixStatsSimd(x, C, n0, n1, s, q)).toBe(true);
        expect(s).toEqual(sRef);
        expect(q).toEqual(qRef);
        // Forward: rows outside [n0, n1) untouched.
        const yRef = new Float32Array(size).fill(7);
        for (let i = n0 * C; i < n1 * C; i++) yRef[i] = x[i] * scale[i % C] + shift[i % C];
        applyAct(act, yRef.subarray(n0 * C, n1 * C));
        const y = new Float32Array(size).fill(7);
        expect(matrixAffineSimd(x, y, C, n0, n1, scale, shift, act)).toBe(true);
        expect(y).toEqual(yRef);
        // Backward through the activation: sums and dx from the materialized dy.
        const dy = actGrad(act, dz, y);
        const dRef = new Float64Array(C);
        const xcRef = new Float64Array(C);
        const dxRef = new Float32Array(size).fill(7);
        for (let r = n0; r < n1; r++) {
          for (let c = 0; c < C; c++) {
            const i = r * C + c;
            dRef[c] += dy[i];
            xcRef[c] += dy[i] * (x[i] - mean[c]);
            dxRef[i] = coef.a[c] * dy[i] + coef.b[c] * x[i] + coef.k[c];
          }
        }
        const sd = new Float64Array(C);
        const sx = new Float64Array(C);
        expect(matrixGradSumsSimd(dz, x, y, act, { C, n0, n1, mean }, sd, sx)).toBe(true);
        expect(sd).toEqual(dRef);
        expect(sx).toEqual(xcRef);
        const dx = new Float32Array(size).fill(7);
        expect(matrixGradApplySimd(dz, x, y, act, dx, { C, n0, n1 }, coef)).toBe(true);
        expect(dx).toEqual(dxRef);
      });
    }
  }

  it('keeps NaN and infinities where the loops do', () => {
    if (!simd) return;
    const x = Float32Array.of(NaN, Infinity, -Infinity, 1, 0, -0, 3e38, -3e38);
    const y = new Float32Array(8);
    const ones = new Float64Array(4).fill(1);
    const zeros = new Float64Array(4);
    expect(matrixAffineSimd(x, y, 4, 0, 2, ones, zeros, 'relu')).toBe(true);
    const ref = Float32Array.from(x);
    reluInto(ref, ref);
    expect(Array.from(y)).toEqual(Array.from(ref));
  });
});

describe('columnSumsSimd (Linear bias gradient)', () => {
  it('sums each column in row order, as the loop, over several chunks and row ranges', () => {
    if (!simd) return;
    for (const [N, C, n0] of [[9000, 8, 0], [128, 256, 5]]) {
      const rng = new Rng(C);
      const g = new Float32Array(N * C).map(() => rng.normal() * 1e3);
      const ref = new Float64Array(C);
      for (let r = n0; r < N; r++) for (let c = 0; c < C; c++) ref[c] += g[r * C + c];
      const s = new Float64Array(C);
      expect(columnSumsSimd(g, C, n0, N, s)).toBe(true);
      expect(s).toEqual(ref);
    }
  });
});

describe('planeSumsSimd (Conv2d bias gradient)', () => {
  it("forms each plane's sum as the loop does (four accumulators by index mod 4), over several chunks", () => {
    if (!simd) return;
    for (const [N, C, S] of [[64, 32, 784], [3, 5, 4], [2, 3, 32768]]) {
      const rng = new Rng(S);
      const g = new Float32Array(N * C * S).map(() => rng.normal() * 100);
      const ref = new Float64Array(C);
      for (let b = 0; b < N; b++) {
        for (let c = 0; c < C; c++) {
          const acc = [0, 0, 0, 0];
          for (let i = 0; i < S; i++) acc[i % 4] += g[(b * C + c) * S + i];
          ref[c] += acc[0] + acc[1] + acc[2] + acc[3];
        }
      }
      const s = new Float64Array(C);
      expect(planeSumsSimd(g, N, C, S, s)).toBe(true);
      expect(s).toEqual(ref);
    }
    expect(planeSumsSimd(new Float32Array(6), 1, 2, 3, new Float64Array(2))).toBe(false);
  });
});

describe('the (N, C) module', () => {
  it('instantiates wherever the other WebAssembly SIMD kernels do (else every test above would skip silently)', () => {
    expect(matrixSimdApplies(4)).toBe(simdAvailable);
  });
});
