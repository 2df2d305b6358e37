// The activation family and the optimizer update: the loops against their definitions, the SIMD kernels against the loops (sigmoid within 2
// ulps), in and out of the heap.
import { describe, expect, it } from 'vitest';
import { activationLoops, activationSimd } from '../../src/kernels/activation.js';
import { axpyLoop, axpySimd } from '../../src/kernels/update.js';
import { Rng } from '../../src/tensor/rng.js';
import { PLACES, bitsOf, expectSame, place, simdExpected } from './heap-arrays.js';

const exact = (v: number) => Math.fround(1 / (1 + Math.exp(-v)));
const simd = activationSimd();
const f32bits = (v: number) => new Int32Array(Float32Array.of(v).buffer)[0];

describe('activation family: the loops', () => {
  it('relu and reluGrad match the compare-based definitions, with +0 for -0 and sign-bit NaN', () => {
    const rng = new Rng(5);
    const x = new Float32Array(103).map(() => rng.normal());
    x[0] = -0;
    x[1] = NaN;
    const y = new Float32Array(x.length);
    activationLoops.relu(x, y);
    for (let i = 2; i < x.length; i++) expect(y[i]).toBe(x[i] > 0 ? x[i] : 0);
    expect(Object.is(y[0], 0)).toBe(true);
    const g = new Float32Array(x.length).map(() => rng.normal());
    const gx = new Float32Array(x.length);
    activationLoops.reluGrad(g, y, gx);
    for (let i = 2; i < x.length; i++) expect(gx[i]).toBe(y[i] > 0 ? g[i] : 0);
  });
  it('sigmoid, tanh and their gradients are the float64 formulas rounded once', () => {
    const rng = new Rng(6);
    const x = new Float32Array(50).map(() => rng.normal() * 4);
    const g = new Float32Array(50).map(() => rng.normal());
    const y = new Float32Array(50);
    const gx = new Float32Array(50);
    activationLoops.sigmoid(x, y);
    activationLoops.sigmoidGrad(g, y, gx);
    for (let i = 0; i < 50; i++) {
      expect(y[i]).toBe(Math.fround(1 / (1 + Math.exp(-x[i]))));
      expect(gx[i]).toBe(Math.fround(g[i] * y[i] * (1 - y[i])));
    }
    activationLoops.tanh(x, y);
    activationLoops.tanhGrad(g, y, gx);
    for (let i = 0; i < 50; i++) {
      expect(y[i]).toBe(Math.fround(Math.tanh(x[i])));
      expect(gx[i]).toBe(Math.fround(g[i] * (1 - y[i] * y[i])));
    }
  });
});

describe.skipIf(!simdExpected)('activation family: WebAssembly SIMD', () => {
  it('loads in Node (else every SIMD path would silently run the loops)', () => {
    expect(simd).not.toBeNull();
    expect(axpySimd()).not.toBeNull();
  });
  for (const where of PLACES) {
    it(`sigmoid is within 2 float32 ulps of 1/(1+e^-x) above 1e-37, operands ${where === 'heap' ? 'in the heap' : 'outside it'}`, () => {
      const rng = new Rng(7);
      // Longer than one copy chunk, and not a multiple of a kernel step.
      const src = new Float32Array(70001).map((_, i) => (rng.uniform() - 0.5) * (i % 5 === 0 ? 180 : 16));
      const x = place(src, where);
      const y = place(new Float32Array(x.length), where);
      simd!.sigmoid(x, y);
      let worst = 0;
      for (let i = 0; i < x.length; i++) {
        const e = exact(x[i]);
        if (e > 1e-37) worst = Math.max(worst, Math.abs(f32bits(e) - f32bits(y[i])));
        else expect(y[i]).toBeLessThan(1e-37);
      }
      expect(worst).toBeLessThanOrEqual(2);
      // In place, and the same bits wherever the operands live and whatever the length (tails included).
      const z = place(src, where === 'heap' ? 'js' : 'heap');
      simd!.sigmoid(z, z);
      expectSame(bitsOf(z), bitsOf(y), 'in place');
      const short = place(src.subarray(0, 21), where);
      simd!.sigmoid(short, short);
      expectSame(bitsOf(short), bitsOf(y.subarray(0, 21)), 'short');
    });
  }
  it('sigmoid handles 0, infinities and NaN', () => {
    const x = Float32Array.from([0, -0, Infinity, -Infinity, NaN, 1]);
    simd!.sigmoid(x, x);
    expect(Array.from(x.subarray(0, 4))).toEqual([0.5, 0.5, 1, 0]);
    expect(x[4]).toBeNaN();
    expect(x[5]).toBeCloseTo(0.7310586, 6);
  });
  for (const where of PLACES) {
    for (const n of [1, 3, 63, 64, 67, 1001, 70001]) {
      it(`relu, reluGrad, sigmoidGrad and axpy give the loops' bits (n = ${n}, operands ${where})`, () => {
        const rng = new Rng(n);
        const x = new Float32Array(n).map(() => rng.normal());
        if (n > 2) {
          x[0] = -0;
          x[1] = NaN;
          x[2] = -NaN;
        }
        const g = new Float32Array(n).map(() => rng.normal());
        const y = new Float32Array(n).map(() => rng.uniform());
        const ref = (f: (o: Float32Array) => void) => {
          const o = new Float32Array(n);
          f(o);
          return bitsOf(o);
        };
        const got = (f: (o: Float32Array) => void) => {
          const o = place(new Float32Array(n), where);
          f(o);
          return bitsOf(o);
        };
        const [px, pg, py] = [place(x, where), place(g, where), place(y, where)];
        expectSame(got((o) => simd!.relu(px, o)), ref((o) => activationLoops.relu(x, o)), 'relu');
        expectSame(got((o) => simd!.reluGrad(pg, px, o)), ref((o) => activationLoops.reluGrad(g, x, o)), 'reluGrad');
        expectSame(got((o) => simd!.sigmoidGrad(pg, py, o)), ref((o) => activationLoops.sigmoidGrad(g, y, o)), 'sigmoidGrad');
        const w = x.map((v) => (Number.isNaN(v) ? 1 : v));
        const wRef = w.slice();
        axpyLoop(n, -0.1, g, wRef);
        const pw = place(w, where);
        axpySimd()!(n, -0.1, pg, pw);
        expectSame(bitsOf(pw), bitsOf(wRef), 'axpy');
        // axpy's loop is SGD's p -= lr * g, bit for bit.
        for (let i = 0; i < n; i++) w[i] -= 0.1 * g[i];
        expectSame(bitsOf(wRef), bitsOf(w), 'axpy loop');
      });
    }
  }
});
