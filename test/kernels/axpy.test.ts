// Kernels.axpy (the optimizers' update) on every backend present: within one float32 rounding of the exact value, and its bounds check.
import { describe, expect, it } from 'vitest';
import '../../src/kernels/blas/index.js';
import { availableBackends, loadBackend } from '../../src/kernels/select.js';
import { ArgumentError } from '../../src/tensor/errors.js';
import { Rng } from '../../src/tensor/rng.js';

describe('axpy: y += alpha x', () => {
  for (const name of availableBackends()) {
    const kern = loadBackend(name);
    if ('unavailable' in kern) continue;
    it(`${name}: every element within one float32 rounding of the exact value, and nothing past n`, () => {
      for (const n of [0, 1, 7, 100, 70001]) {
        const rng = new Rng(n + 1);
        const x = new Float32Array(n + 3).map(() => rng.normal());
        const y = new Float32Array(n + 3).map(() => rng.normal());
        const y0 = y.slice();
        const alpha = -0.1;
        kern.axpy(n, alpha, x, y);
        for (let i = 0; i < n; i++) {
          const exact = y0[i] + alpha * x[i];
          // alpha itself is rounded to float32 by CBLAS (float alpha): allow that and the result's rounding.
          const tol = 2 ** -23 * (Math.abs(exact) + Math.abs(alpha * x[i]));
          expect(Math.abs(y[i] - exact), `element ${i} of ${n}`).toBeLessThanOrEqual(tol);
        }
        expect(Array.from(y.subarray(n))).toEqual(Array.from(y0.subarray(n)));
      }
    });
    it(`${name}: rejects n past the arrays with a clear error`, () => {
      if (name !== 'blas') return; // the native call is the one that must never read past the end
      expect(() => kern.axpy(10, 1, new Float32Array(5), new Float32Array(10))).toThrow(ArgumentError);
      expect(() => kern.axpy(10, 1, new Float32Array(10), new Float32Array(5))).toThrow(/axpy: n = 10/);
    });
  }
});
