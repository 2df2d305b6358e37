// The BatchNorm family: its loops against reference sums and formulas, and the SIMD family against the loops bit for bit (plane and matrix
// layouts, in and out of the heap, fused activations, Ghost ranges).
import { describe, expect, it } from 'vitest';
import { batchnormLoops, batchnormSimd } from '../../src/kernels/batchnorm.js';
import { activationSimd } from '../../src/kernels/activation.js';
import { matrixStatsSums, planeGradSums, planeStatsSums } from '../../src/kernels/loops/batchnorm.js';
import type { BatchNormKernels, BnAct, BnSpan } from '../../src/kernels/families.js';
import { Rng } from '../../src/tensor/rng.js';
import { PLACES, type Place, bitsOf, expectSame, place, simdExpected } from './heap-arrays.js';

const simd = batchnormSimd();
const ACTS: BnAct[] = [null, 'relu', 'sigmoid'];

/** Random data for a span of an (N, C, S) array. */
function data(N: number, C: number, S: number, seed: number) {
  const rng = new Rng(seed);
  const size = N * C * S;
  const vec = () => new Float64Array(C).map(() => rng.normal());
  return {
    x: new Float32Array(size).map(() => rng.normal() * 3 + 1),
    dz: new Float32Array(size).map(() => rng.normal()),
    y: new Float32Array(size).map(() => rng.uniform()),
    scale: vec(),
    shift: vec(),
    mean: vec(),
    coef: { a: vec(), b: vec(), k: vec() },
  };
}

describe('BatchNorm loops against reference sums', () => {
  it("planeStatsSums keeps two chains per plane (even and odd values of each 8) and planeGradSums four (index mod 4), tails in the first", () => {
    for (const [N, C, S, n0, n1] of [[3, 5, 33, 0, 3], [5, 3, 39, 1, 4], [2, 2, 1001, 0, 2]]) {
      const d = data(N, C, S, N * S);
      const span = { C, S, n0, n1 };
      const sRef = new Float64Array(C);
      const qRef = new Float64Array(C);
      const dyRef = new Float64Array(C);
      const xcRef = new Float64Array(C);
      for (let n = n0; n < n1; n++) {
        for (let c = 0; c < C; c++) {
          const K = d.x[(n0 * C + c) * S];
          const o = (n * C + c) * S;
          const ch = [0, 0, 0, 0];
          let i = o;
          for (; i + 7 < o + S; i += 8) {
            const v = Array.from(d.x.subarray(i, i + 8), (t) => t - K);
            ch[0] += v[0] + v[2] + v[4] + v[6];
            ch[1] += v[1] + v[3] + v[5] + v[7];
            ch[2] += v[0] * v[0] + v[2] * v[2] + v[4] * v[4] + v[6] * v[6];
            ch[3] += v[1] * v[1] + v[3] * v[3] + v[5] * v[5] + v[7] * v[7];
          }
          for (; i < o + S; i++) {
            ch[0] += d.x[i] - K;
            ch[2] += (d.x[i] - K) * (d.x[i] - K);
          }
          sRef[c] += ch[0] + ch[1];
          qRef[c] += ch[2] + ch[3];
          const a = [0, 0, 0, 0];
          const b = [0, 0, 0, 0];
          for (let j = o; j < o + S; j++) {
            const r = j < o + (S & ~3) ? (j - o) % 4 : 0;
            a[r] += d.dz[j];
            b[r] += d.dz[j] * (d.x[j] - d.mean[c]);
          }
          dyRef[c] += a[0] + a[1] + a[2] + a[3];
          xcRef[c] += b[0] + b[1] + b[2] + b[3];
        }
      }
      const s = new Float64Array(C);
      const q = new Float64Array(C);
      planeStatsSums(d.x, span, s, q);
      expect(s).toEqual(sRef);
      expect(q).toEqual(qRef);
      const out = { sumDy: new Float64Array(C), sumDyXc: new Float64Array(C) };
      planeGradSums(d.x, d.dz, span, d.mean, out);
      expect(out.sumDy).toEqual(dyRef);
      expect(out.sumDyXc).toEqual(xcRef);
    }
  });
  it('matrixStatsSums sums each column in row order about its first row', () => {
    const [N, C, n0] = [9, 6, 2];
    const d = data(N, C, 1, 3);
    const sRef = new Float64Array(C);
    const qRef = new Float64Array(C);
    for (let c = 0; c < C; c++) {
      const k = d.x[n0 * C + c];
      for (let r = n0; r < N; r++) {
        sRef[c] += d.x[r * C + c] - k;
        qRef[c] += (d.x[r * C + c] - k) ** 2;
      }
    }
    const s = new Float64Array(C);
    const q = new Float64Array(C);
    matrixStatsSums(d.x, { C, S: 1, n0, n1: N }, s, q);
    expect(s).toEqual(sRef);
    expect(q).toEqual(qRef);
  });
  it('stats gives the two-pass mean and biased variance, affine and gradApply their formulas rounded once', () => {
    for (const [N, C, S] of [[4, 3, 50], [10, 5, 1]]) {
      const d = data(N, C, S, 17);
      const span = { C, S, n0: 1, n1: N };
      const mean = new Float64Array(C);
      const variance = new Float64Array(C);
      batchnormLoops.stats(d.x, span, mean, variance);
      for (let c = 0; c < C; c++) {
        const v: number[] = [];
        for (let n = 1; n < N; n++) for (let i = 0; i < S; i++) v.push(d.x[(n * C + c) * S + i]);
        const mu = v.reduce((a, b) => a + b, 0) / v.length;
        expect(mean[c]).toBeCloseTo(mu, 12);
        expect(variance[c]).toBeCloseTo(v.reduce((a, b) => a + (b - mu) ** 2, 0) / v.length, 12);
      }
      const y = new Float32Array(N * C * S).fill(7);
      const dx = new Float32Array(N * C * S).fill(7);
      batchnormLoops.affine(d.x, y, span, d, null);
      batchnormLoops.gradApply(d.x, d.dz, dx, span, { ...d.coef, accumulate: false });
      for (let i = 0; i < N * C * S; i++) {
        const c = Math.floor(i / S) % C;
        const inSpan = i >= C * S;
        expect(y[i]).toBe(inSpan ? Math.fround(d.x[i] * d.scale[c] + d.shift[c]) : 7);
        expect(dx[i]).toBe(inSpan ? Math.fround(d.coef.a[c] * d.dz[i] + d.coef.b[c] * d.x[i] + d.coef.k[c]) : 7);
      }
    }
  });
});

/**
 * Every entry of two families on the same inputs: stats, affine (+ act), gradSums, gradApply (written and
 * accumulated) and backward; returns each result's bits.
 */
function runAll(bn: BatchNormKernels, N: number, C: number, S: number, span: BnSpan, act: BnAct, where: Place, vbs: number) {
  const d = data(N, C, S, N * C + S);
  const [x, dz, yIn] = [place(d.x, where), place(d.dz, where), place(d.y, where)];
  const size = N * C * S;
  const r: Record<string, ArrayLike<number>> = {};
  const mean = new Float64Array(C);
  const variance = new Float64Array(C);
  bn.stats(x, span, mean, variance);
  r.stats = [...mean, ...variance];
  const y = place(new Float32Array(size).fill(7), where);
  bn.affine(x, y, span, d, act);
  r.affine = bitsOf(y);
  const out = { sumDy: new Float64Array(C), sumDyXc: new Float64Array(C) };
  bn.gradSums(x, dz, span, d.mean, out);
  r.gradSums = [...out.sumDy, ...out.sumDyXc];
  const dx = place(new Float32Array(size).fill(7), where);
  bn.gradApply(x, dz, dx, span, { ...d.coef, accumulate: false });
  r.gradApply = bitsOf(dx);
  bn.gradApply(x, dz, dx, span, { ...d.coef, accumulate: true });
  r.gradAccumulate = bitsOf(dx);
  // The whole backward, with the activation, over Ghost ranges of vbs samples.
  const G = Math.ceil(N / vbs);
  const means = new Float64Array(G * C).map((_, i) => d.mean[i % C] + i);
  const seen: number[] = [];
  for (const [accumulate, dxb] of [[false, place(new Float32Array(size).fill(7), where)], [true, place(d.x, where)], [false, null]] as const) {
    bn.backward({
      x, y: yIn, dz, act, C, S, N, vbs, means, sums: true, dx: dxb, accumulate,
      coefficients(g, sumDy, sumDyXc) {
        seen.push(g, ...sumDy, ...sumDyXc);
        return { a: d.coef.a.map((v) => v + g), b: d.coef.b, k: d.coef.k.map((v, c) => v * sumDy[c] * 1e-3) };
      },
    });
    if (dxb) r[`backward${accumulate ? 'Accumulate' : ''}`] = bitsOf(dxb);
  }
  r.backwardSums = seen;
  return r;
}

const PLANE_SHAPES = [
  // Planes of odd sizes (tails not a multiple of 4 or 8), planes larger than a copy chunk, ranges not starting at 0,
  // more planes than a kernel call takes (1280 > 1024).
  [3, 5, 33, 0, 3], [4, 3, 784, 1, 3], [2, 2, 40001, 0, 2], [64, 7, 37, 5, 64], [6, 3, 36, 2, 5], [5, 3, 39, 0, 5],
  [5, 3, 40, 1, 4], [40, 3, 1000, 7, 33], [3, 2, 32768, 0, 3], [2, 3, 65541, 1, 2], [20, 64, 40, 0, 20], [4, 3, 31, 0, 4],
];
const MATRIX_SHAPES = [
  // Rows over several copy chunks (C = 4: 8192 rows a chunk), wide rows, C not a multiple of 4 or over the tables
  // (the loops run), ranges not starting at row 0.
  [7, 4, 0, 7], [20000, 4, 3, 20000], [60, 100, 0, 60], [130, 256, 64, 130], [5, 4096, 1, 5], [9, 6, 0, 9], [3, 4100, 0, 3],
];

describe.skipIf(!simdExpected)('BatchNorm family: WebAssembly SIMD against the loops, bit for bit', () => {
  it('loads in Node (else every SIMD path would silently run the loops)', () => {
    expect(simd).not.toBeNull();
  });
  const cases = [
    ...PLANE_SHAPES.map(([N, C, S, n0, n1]) => ({ N, C, S, n0, n1 })),
    ...MATRIX_SHAPES.map(([N, C, n0, n1]) => ({ N, C, S: 1, n0, n1 })),
  ];
  for (const { N, C, S, n0, n1 } of cases) {
    for (const where of PLACES) {
      it(`(${N}, ${C}, ${S}), samples [${n0}, ${n1}), operands ${where}: every entry, every activation`, () => {
        for (const act of ACTS) {
          const vbs = Math.max(1, Math.ceil(N / 3));
          const got = runAll(simd!, N, C, S, { C, S, n0, n1 }, act, where, vbs);
          const want = runAll(batchnormLoops, N, C, S, { C, S, n0, n1 }, act, 'js', vbs);
          for (const key of Object.keys(want)) {
            // sigmoid's forward: the SIMD family applies its own sigmoid (checked below); the rest is exact.
            if (key === 'affine' && act === 'sigmoid') continue;
            expectSame(got[key], want[key], `${key}, act ${act}`);
          }
        }
      });
    }
  }
  for (const [N, C, S] of [[60, 100, 1], [9, 6, 1], [4, 3, 50]]) {
    it(`affine + sigmoid (${N}, ${C}, ${S}) is affine, then the SIMD activation family's sigmoid`, () => {
      const d = data(N, C, S, 5);
      const span = { C, S, n0: 0, n1: N };
      for (const where of PLACES) {
        const x = place(d.x, where);
        const fused = place(new Float32Array(N * C * S), where);
        simd!.affine(x, fused, span, d, 'sigmoid');
        const y = new Float32Array(N * C * S);
        simd!.affine(x, y, span, d, null);
        activationSimd()!.sigmoid(y, y);
        expectSame(bitsOf(fused), bitsOf(y), `${where}`);
      }
    });
  }
  it('keeps NaN and infinities where the loops do', () => {
    const x = Float32Array.of(NaN, Infinity, -Infinity, 1, 0, -0, 3e38, -3e38);
    const ones = new Float64Array(4).fill(1);
    const zeros = new Float64Array(4);
    for (const act of [null, 'relu'] as BnAct[]) {
      const a = new Float32Array(8);
      const b = new Float32Array(8);
      simd!.affine(x, a, { C: 4, S: 1, n0: 0, n1: 2 }, { scale: ones, shift: zeros }, act);
      batchnormLoops.affine(x, b, { C: 4, S: 1, n0: 0, n1: 2 }, { scale: ones, shift: zeros }, act);
      expectSame(bitsOf(a), bitsOf(b), `act ${act}`);
    }
  });
});
