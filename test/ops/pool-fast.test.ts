// Max pooling's branch-free 2x2 path against the plain definition (ties, -0, NaN, odd sizes), and relu fused with it.
import { describe, expect, it } from 'vitest';
import { maxPool2d, reluMaxPool2d } from '../../src/ops/pool.js';
import { relu } from '../../src/ops/activation.js';
import { Sequential } from '../../src/nn/sequential.js';
import { Flatten, MaxPool2d, ReLU } from '../../src/nn/activation.js';
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

describe('reluMaxPool2d', () => {
  for (const [k, stride] of [[2, 2], [3, 3], [2, 1]]) {
    it(`equals maxPool2d(relu(x)) in values and gradients (k ${k}, stride ${stride}), ties and zeros included`, () => {
      const rng = new Rng(11 + k);
      const shape = [2, 3, 7, 8];
      const data = new Float32Array(2 * 3 * 7 * 8).map(() => Math.round(rng.uniform() * 6) - 3);
      data[5] = -0;
      const g = (n: number) => new Float32Array(n).map((_, i) => Math.sin(i + 1));
      const a = new Tensor(data.slice(), shape, true);
      const ya = maxPool2d(relu(a), k, { stride });
      ya.backward(g(ya.size));
      const b = new Tensor(data.slice(), shape, true);
      const yb = reluMaxPool2d(b, k, { stride });
      yb.backward(g(yb.size));
      expect(yb.shape).toEqual(ya.shape);
      expect(Array.from(yb.data)).toEqual(Array.from(ya.data));
      expect(Array.from(b.grad!)).toEqual(Array.from(a.grad!));
    });
  }
  for (const shape of [[2, 3, 8, 8], [2, 2, 6, 7], [1, 1, 2, 2], [1, 1, 2, 3], [40, 32, 28, 28], [1, 1, 4, 200]]) {
    it(`2x2 on ${shape.join('x')} (the SIMD kernel's path, chunks and row tails) equals the composition`, () => {
      const rng = new Rng(shape[3]);
      const size = shape.reduce((a, b) => a * b, 1);
      const data = new Float32Array(size).map(() => Math.round(rng.normal() * 3) / 2);
      data[0] = -0;
      data[size - 1] = NaN;
      const ya = maxPool2d(relu(new Tensor(data, shape)), 2);
      const yb = reluMaxPool2d(new Tensor(data, shape, true), 2);
      expect(Array.from(yb.data)).toEqual(Array.from(ya.data));
      const a = new Tensor(data.slice(), shape, true);
      const b = new Tensor(data.slice(), shape, true);
      const g = new Float32Array(ya.size).map((_, i) => (i % 7) - 3);
      maxPool2d(relu(a), 2).backward(g);
      reluMaxPool2d(b, 2).backward(g);
      expect(b.grad!).toEqual(a.grad!);
    });
  }
  it('Sequential fuses ReLU + MaxPool2d with the same result as the layers one by one', () => {
    const rng = new Rng(3);
    const model = new Sequential(new ReLU(), new MaxPool2d(2), new Flatten());
    const x = new Tensor(new Float32Array(2 * 2 * 6 * 6).map(() => rng.normal()), [2, 2, 6, 6], true);
    const y = model.forward(x);
    let h = x.detach();
    h.requiresGrad = true;
    const x2 = h;
    for (const m of model.layers) h = m.forward(h);
    expect(Array.from(y.data)).toEqual(Array.from(h.data));
    const g = new Float32Array(y.size).map((_, i) => i - 5);
    y.backward(g);
    h.backward(g);
    expect(Array.from(x.grad!)).toEqual(Array.from(x2.grad!));
  });
});
