// The WebAssembly SIMD kernels: sigmoid against the float64 formula (ulps, edges, tails), the float64-lane kernels bit for bit.
import { describe, expect, it } from 'vitest';
import { reluGradInto, reluInto, sgdUpdate, sigmoidGradInto, sigmoidInto, simdAvailable } from '../../src/kernels/ts/simd.js';
import { Rng } from '../../src/tensor/rng.js';

const exact = (v: number) => Math.fround(1 / (1 + Math.exp(-v)));

describe(`SIMD kernels (${simdAvailable ? 'WebAssembly SIMD' : 'plain-loop fallback'})`, () => {
  it('the module validates and loads in Node (else every kernel silently runs its fallback loop)', () => {
    expect(simdAvailable).toBe(true);
  });
  it('is within 2 float32 ulps of 1/(1+e^-x) where the value is above 1e-37', () => {
    const rng = new Rng(7);
    // Longer than one chunk of the kernel's memory, and not a multiple of 4.
    const x = new Float32Array(70001).map((_, i) => (rng.uniform() - 0.5) * (i % 5 === 0 ? 180 : 16));
    const y = new Float32Array(x.length);
    sigmoidInto(x, y);
    const bits = (v: number) => new Int32Array(Float32Array.of(v).buffer)[0];
    let worst = 0;
    for (let i = 0; i < x.length; i++) {
      const e = exact(x[i]);
      if (e > 1e-37) worst = Math.max(worst, Math.abs(bits(e) - bits(y[i])));
      else expect(y[i]).toBeLessThan(1e-37);
    }
    expect(worst).toBeLessThanOrEqual(2);
  });
  it('handles 0, infinities and NaN, and may write in place', () => {
    const x = Float32Array.from([0, -0, Infinity, -Infinity, NaN, 1]);
    sigmoidInto(x, x);
    expect(Array.from(x.subarray(0, 4))).toEqual([0.5, 0.5, 1, 0]);
    expect(x[4]).toBeNaN();
    expect(x[5]).toBeCloseTo(0.7310586, 6);
  });
  it('sgdUpdate and sigmoidGradInto are bit-identical to their JavaScript loops, across chunks and odd tails', () => {
    const rng = new Rng(3);
    for (const n of [1, 63, 64, 65, 1001, 70001]) {
      const w = new Float32Array(n).map(() => rng.normal());
      const g = new Float32Array(n).map(() => rng.normal() * 1e-3);
      const y = new Float32Array(n).map(() => rng.uniform());
      const lr = 0.1;
      const wRef = w.slice();
      for (let i = 0; i < n; i++) wRef[i] -= lr * g[i];
      sgdUpdate(w, g, lr);
      expect(w).toEqual(wRef);
      const gxRef = new Float32Array(n);
      for (let i = 0; i < n; i++) gxRef[i] = g[i] * y[i] * (1 - y[i]);
      const gx = new Float32Array(n);
      sigmoidGradInto(g, y, gx);
      expect(gx).toEqual(gxRef);
    }
  });
});

describe('relu kernels', () => {
  it('reluInto and reluGradInto match the compare-based definitions, including -0, NaN and odd tails', () => {
    const rng = new Rng(5);
    for (const n of [3, 64, 70003]) {
      const x = new Float32Array(n).map(() => rng.normal());
      x[0] = -0;
      x[1] = NaN;
      const y = new Float32Array(n);
      reluInto(x, y);
      for (let i = 2; i < n; i++) expect(y[i]).toBe(x[i] > 0 ? x[i] : 0);
      expect(Object.is(y[0], 0)).toBe(true);
      const g = new Float32Array(n).map(() => rng.normal());
      const gx = new Float32Array(n);
      reluGradInto(g, y, gx);
      for (let i = 2; i < n; i++) expect(gx[i]).toBe(y[i] > 0 ? g[i] : 0);
    }
  });
});
