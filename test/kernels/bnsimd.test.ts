// BatchNorm's WebAssembly SIMD kernels (statistics sums, affine apply, backward sums, written input gradient) against their plain loops, bit for bit.
import { describe, expect, it } from 'vitest';
import { bnAffineInto, bnGradInto, bnGradSumsInto, bnStatsInto, simdAvailable } from '../../src/kernels/ts/simd.js';
import { Rng } from '../../src/tensor/rng.js';

describe(`BatchNorm SIMD kernels (${simdAvailable ? 'WebAssembly SIMD' : 'plain-loop fallback'})`, () => {
  // Planes of odd sizes (tails not a multiple of 4), planes larger than a chunk, sample ranges not starting at 0.
  // The kernels take 8 values per step (16 for the statistics) and finish with a half step: S = 36, 37, 39 leave
  // the backward sums a half step (and a tail), S = 40 the statistics one; 1000-value planes fill 32 per chunk with
  // chunks starting mid-channel-cycle; 32768 is exactly a chunk, 65541 three pieces per plane.
  for (const [N, C, S, n0, n1] of [
    [3, 5, 33, 0, 3],
    [4, 3, 784, 1, 3],
    [2, 2, 40001, 0, 2],
    [64, 7, 37, 5, 64],
    [6, 3, 36, 2, 5],
    [5, 3, 39, 0, 5],
    [5, 3, 40, 1, 4],
    [40, 3, 1000, 7, 33],
    [3, 2, 32768, 0, 3],
    [2, 3, 65541, 1, 2],
  ]) {
    it(`bnAffineInto and bnGradInto are bit-identical to the loops on (${N}, ${C}, ${S}), samples [${n0}, ${n1})`, () => {
      const rng = new Rng(11);
      const size = N * C * S;
      const x = new Float32Array(size).map(() => rng.normal() * 3 + 1);
      const dy = new Float32Array(size).map(() => rng.normal());
      const vec = () => new Float64Array(C).map(() => rng.normal());
      const scale = vec();
      const shift = vec();
      const coef = { a: vec(), b: vec(), k: vec() };
      const yRef = new Float32Array(size).fill(7);
      const dxRef = new Float32Array(size).fill(7);
      for (let n = n0; n < n1; n++) {
        for (let c = 0; c < C; c++) {
          for (let i = (n * C + c) * S; i < (n * C + c + 1) * S; i++) {
            yRef[i] = x[i] * scale[c] + shift[c];
            dxRef[i] = coef.a[c] * dy[i] + coef.b[c] * x[i] + coef.k[c];
          }
        }
      }
      const y = new Float32Array(size).fill(7);
      const dx = new Float32Array(size).fill(7);
      expect(bnAffineInto(x, y, C, S, n0, n1, scale, shift)).toBe(simdAvailable);
      expect(bnGradInto(x, dy, dx, C, S, n0, n1, coef)).toBe(simdAvailable);
      if (simdAvailable) {
        expect(y).toEqual(yRef);
        expect(dx).toEqual(dxRef);
      }
      // bnGradSums's loop: four accumulators by index mod 4, the tail into the first, combined left to right.
      const mean = vec();
      const dyRef = new Float64Array(C);
      const xcRef = new Float64Array(C);
      for (let n = n0; n < n1; n++) {
        for (let c = 0; c < C; c++) {
          const a = [0, 0, 0, 0];
          const b = [0, 0, 0, 0];
          const o = (n * C + c) * S;
          for (let i = o; i < o + S; i++) {
            const j = i < o + (S & ~3) ? (i - o) % 4 : 0;
            a[j] += dy[i];
            b[j] += dy[i] * (x[i] - mean[c]);
          }
          dyRef[c] += a[0] + a[1] + a[2] + a[3];
          xcRef[c] += b[0] + b[1] + b[2] + b[3];
        }
      }
      const sumDy = new Float64Array(C);
      const sumDyXc = new Float64Array(C);
      const ok = bnGradSumsInto(x, dy, C, S, { n0, n1, mean }, sumDy, sumDyXc);
      expect(ok).toBe(simdAvailable && S <= 32768);
      if (ok) {
        expect(sumDy).toEqual(dyRef);
        expect(sumDyXc).toEqual(xcRef);
      }
      // bnStats's loop: per block of 8, the even and the odd values in two chains about K (the channel's first value),
      // the tail into the first.
      const sRef = new Float64Array(C);
      const qRef = new Float64Array(C);
      for (let n = n0; n < n1; n++) {
        for (let c = 0; c < C; c++) {
          const K = x[(n0 * C + c) * S];
          const o = (n * C + c) * S;
          let s0 = 0;
          let s1 = 0;
          let q0 = 0;
          let q1 = 0;
          let i = o;
          for (; i + 7 < o + S; i += 8) {
            const d = Array.from(x.subarray(i, i + 8), (v) => v - K);
            s0 += d[0] + d[2] + d[4] + d[6];
            s1 += d[1] + d[3] + d[5] + d[7];
            q0 += d[0] * d[0] + d[2] * d[2] + d[4] * d[4] + d[6] * d[6];
            q1 += d[1] * d[1] + d[3] * d[3] + d[5] * d[5] + d[7] * d[7];
          }
          for (; i < o + S; i++) {
            s0 += x[i] - K;
            q0 += (x[i] - K) * (x[i] - K);
          }
          sRef[c] += s0 + s1;
          qRef[c] += q0 + q1;
        }
      }
      const sums = new Float64Array(C);
      const sqs = new Float64Array(C);
      expect(bnStatsInto(x, C, S, n0, n1, sums, sqs)).toBe(ok);
      if (ok) {
        expect(sums).toEqual(sRef);
        expect(sqs).toEqual(qRef);
      }
    });
  }
  it('declines planes under 32 values (the caller loops)', () => {
    const x = new Float32Array(8);
    expect(bnAffineInto(x, x, 2, 4, 0, 1, new Float64Array(2), new Float64Array(2))).toBe(false);
  });
});
