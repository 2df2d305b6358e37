// BatchNorm's WebAssembly SIMD kernels (affine apply, written input gradient) against their plain loops, bit for bit.
import { describe, expect, it } from 'vitest';
import { bnAffineInto, bnGradInto, simdAvailable } from '../../src/kernels/ts/simd.js';
import { Rng } from '../../src/tensor/rng.js';

describe(`BatchNorm SIMD kernels (${simdAvailable ? 'WebAssembly SIMD' : 'plain-loop fallback'})`, () => {
  // Planes of odd sizes (tails not a multiple of 4), planes larger than a chunk, sample ranges not starting at 0.
  for (const [N, C, S, n0, n1] of [
    [3, 5, 33, 0, 3],
    [4, 3, 784, 1, 3],
    [2, 2, 40001, 0, 2],
    [64, 7, 37, 5, 64],
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
    });
  }
  it('declines planes under 32 values (the caller loops)', () => {
    const x = new Float32Array(8);
    expect(bnAffineInto(x, x, 2, 4, 0, 1, new Float64Array(2), new Float64Array(2))).toBe(false);
  });
});
