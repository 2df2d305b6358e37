// The pooling and reductions families: the SIMD kernels against the loops (and the loops against definitions), in and out of the heap.
import { describe, expect, it } from 'vitest';
import { poolingLoops, poolingSimd } from '../../src/kernels/pooling.js';
import { reductionLoops, reductionSimd } from '../../src/kernels/reductions.js';
import { Rng } from '../../src/tensor/rng.js';
import { PLACES, bitsOf, expectSame, place, placeInt, simdExpected } from './heap-arrays.js';

/** Pooling input with ties, zeros, -0, NaN of both signs and infinities. */
function poolInput(size: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const x = new Float32Array(size).map(() => Math.round(rng.uniform() * 6) - 3 + (rng.uniform() < 0.5 ? 0 : rng.normal()));
  for (let i = 0; i < size; i += 97) x[i] = [-0, NaN, -NaN, Infinity, -Infinity][(i / 97) % 5];
  return x;
}

describe('pooling loops', () => {
  it('reluMaxPool2 picks the first largest relu value of each 2x2 window, and its gradient routes g there', () => {
    const [planes, h, w] = [3, 5, 7];
    const x = poolInput(planes * h * w, 1).map((v) => (Number.isNaN(v) ? 1 : v));
    const n = planes * (h >> 1) * (w >> 1);
    const out = new Float32Array(n);
    const arg = new Int32Array(n);
    poolingLoops.reluMaxPool2(x, { planes, h, w }, out, arg);
    let o = 0;
    for (let p = 0; p < planes; p++) {
      for (let oy = 0; oy < h >> 1; oy++) {
        for (let ox = 0; ox < w >> 1; ox++, o++) {
          const idx = [0, 1, w, w + 1].map((d) => p * h * w + 2 * oy * w + 2 * ox + d);
          let bi = idx[0];
          for (const i of idx) if (Math.max(x[i], 0) > Math.max(x[bi], 0)) bi = i;
          expect(arg[o]).toBe(bi);
          expect(out[o]).toBe(Math.max(x[bi], 0));
        }
      }
    }
    const g = new Float32Array(n).map((_, i) => i + 1);
    const gx = new Float32Array(x.length).fill(7);
    poolingLoops.reluMaxPool2Grad(g, out, arg, { planes, h, w }, gx);
    const want = new Float32Array(x.length);
    for (let i = 0; i < n; i++) if (out[i] > 0) want[arg[i]] = g[i];
    expect(Array.from(gx)).toEqual(Array.from(want));
  });
});

describe.skipIf(!simdExpected)('pooling and reductions: WebAssembly SIMD against the loops', () => {
  it('load in Node', () => {
    expect(poolingSimd()).not.toBeNull();
    expect(reductionSimd()).not.toBeNull();
  });
  // wo mod 4 = 0, 1, 2, 3; odd h and odd w (the loops run where the kernels decline); rows longer than a copy chunk.
  const shapes = [[2, 8, 8], [3, 6, 10], [1, 4, 12], [2, 2, 14], [4, 7, 9], [5, 6, 7], [64, 28, 28], [1, 2, 70002], [2, 4, 2]];
  for (const [planes, h, w] of shapes) {
    for (const where of PLACES) {
      it(`reluMaxPool2 forward and backward on ${planes} planes of ${h}x${w}, operands ${where}`, () => {
        const x = poolInput(planes * h * w, h * w);
        const n = planes * (h >> 1) * (w >> 1);
        const geom = { planes, h, w };
        const out = new Float32Array(n);
        const arg = new Int32Array(n);
        poolingLoops.reluMaxPool2(x, geom, out, arg);
        const pOut = place(new Float32Array(n).fill(7), where);
        const pArg = placeInt(n, where);
        poolingSimd()!.reluMaxPool2(place(x, where), geom, pOut, pArg.arr);
        expectSame(bitsOf(pOut), bitsOf(out), 'out');
        expectSame(pArg.arr, arg, 'arg');
        const g = new Float32Array(n).map((_, i) => Math.sin(i) * 3);
        const gx = new Float32Array(x.length);
        poolingLoops.reluMaxPool2Grad(g, out, arg, geom, gx);
        const pGx = place(new Float32Array(x.length).fill(7), where);
        poolingSimd()!.reluMaxPool2Grad(place(g, where), place(out, where), pArg.arr, geom, pGx);
        expectSame(bitsOf(pGx), bitsOf(gx), 'gx');
        void pArg.keep;
      });
    }
  }
  for (const where of PLACES) {
    it(`columnSums and planeSums give the loops' sums (C or plane a multiple of 4 or not), operands ${where}`, () => {
      for (const [rows, C] of [[9000, 8], [128, 256], [5, 6], [3, 4096], [2, 5000]]) {
        const rng = new Rng(C);
        const g = new Float32Array(rows * C).map(() => rng.normal() * 1e3);
        const want = new Float64Array(C);
        for (let r = 0; r < rows; r++) for (let c = 0; c < C; c++) want[c] += g[r * C + c];
        const s = new Float64Array(C).fill(7);
        reductionSimd()!.columnSums(place(g, where), rows, C, s);
        expectSame(s, want, `columnSums ${rows}x${C}`);
        const l = new Float64Array(C).fill(7);
        reductionLoops.columnSums(g, rows, C, l);
        expectSame(l, want, `columnSums loop ${rows}x${C}`);
      }
      for (const [N, C, plane] of [[64, 32, 784], [3, 5, 4], [2, 3, 32768], [1, 2, 40000], [40, 40, 16], [2, 3, 7]]) {
        const rng = new Rng(plane);
        const g = new Float32Array(N * C * plane).map(() => rng.normal() * 100);
        const want = new Float64Array(C).fill(1);
        for (let b = 0; b < N; b++) {
          for (let c = 0; c < C; c++) {
            const acc = [0, 0, 0, 0];
            for (let i = 0; i < plane; i++) acc[i < (plane & ~3) ? i % 4 : 0] += g[(b * C + c) * plane + i];
            want[c] += acc[0] + acc[1] + acc[2] + acc[3];
          }
        }
        const s = new Float64Array(C).fill(1);
        reductionSimd()!.planeSums(place(g, where), { N, C, plane }, s);
        expectSame(s, want, `planeSums ${N}x${C}x${plane}`);
        const l = new Float64Array(C).fill(1);
        reductionLoops.planeSums(g, { N, C, plane }, l);
        expectSame(l, want, `planeSums loop ${N}x${C}x${plane}`);
      }
    });
  }
});
