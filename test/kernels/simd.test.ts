// The WebAssembly SIMD sigmoid against the float64 formula: ulps, edges, tails, lengths not a multiple of 4.
import { describe, expect, it } from 'vitest';
import { sigmoidInto, sigmoidIsWasm } from '../../src/kernels/ts/wasm-sigmoid.js';
import { Rng } from '../../src/tensor/rng.js';

const exact = (v: number) => Math.fround(1 / (1 + Math.exp(-v)));

describe(`sigmoidInto (${sigmoidIsWasm ? 'WebAssembly SIMD' : 'Math.exp fallback'})`, () => {
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
});
