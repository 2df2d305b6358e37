// Max pooling's branch-free 2x2 path against the plain definition: ties, -0, NaN, odd sizes, gradients routed once.
import { describe, expect, it } from 'vitest';
import { maxPool2d } from '../../src/ops/pool.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { Rng } from '../../src/tensor/rng.js';

/** Reference: the first maximum of each window in row-major order; a NaN wins (the first one). */
function reference(x: Float32Array, n: number, h: number, w: number, k: number): { out: number[]; arg: number[] } {
  const out: number[] = [];
  const arg: number[] = [];
  const ho = Math.floor(h / k);
  const wo = Math.floor(w / k);
  for (let p = 0; p < n; p++) {
    for (let oy = 0; oy < ho; oy++) {
      for (let ox = 0; ox < wo; ox++) {
        let bi = -1;
        for (let i = 0; i < k; i++) {
          for (let j = 0; j < k; j++) {
            const idx = p * h * w + (oy * k + i) * w + ox * k + j;
            const v = x[idx];
            if (bi < 0 || (Number.isNaN(v) && !Number.isNaN(x[bi])) || v > x[bi]) bi = idx;
          }
        }
        out.push(x[bi]);
        arg.push(bi);
      }
    }
  }
  return { out, arg };
}

describe('maxPool2d, tiled windows', () => {
  for (const k of [2, 3]) {
    it(`k = ${k}: values and gradient routing match the definition, with ties, -0 and NaN`, () => {
      const rng = new Rng(k);
      const [n, h, w] = [3, 7, 9];
      const x = new Float32Array(n * h * w).map(() => Math.round(rng.uniform() * 4) - 2);
      x[0] = -0;
      x[10] = NaN;
      x[30] = -Infinity;
      x[31] = Infinity;
      const t = new Tensor(x, [n, 1, h, w], true);
      const y = maxPool2d(t, k);
      const ref = reference(x, n, h, w, k);
      expect(Array.from(y.data)).toEqual(ref.out);
      const g = new Float32Array(y.size).map((_, i) => i + 1);
      y.backward(g);
      const want = new Float32Array(x.length);
      ref.arg.forEach((a, i) => (want[a] += g[i]));
      expect(Array.from(t.grad!)).toEqual(Array.from(want));
    });
  }
});
