// Gradient buffer pool and fresh-write rules: recycled buffers never leak old values, callers' arrays stay untouched.
import { describe, expect, it } from 'vitest';
import { Tensor } from '../../src/tensor/tensor.js';
import { tensor } from '../../src/tensor/create.js';
import { clearPool, releaseBuffer, takeBuffer } from '../../src/tensor/pool.js';
import { linear, matmul } from '../../src/ops/matmul.js';
import { relu, sigmoid } from '../../src/ops/activation.js';
import { mul } from '../../src/ops/elementwise.js';
import { sum } from '../../src/ops/reduce.js';
import { Rng } from '../../src/tensor/rng.js';
import { randn } from '../../src/tensor/create.js';

describe('gradient pool', () => {
  it('hands back a released buffer of the same size only', () => {
    clearPool();
    const b = new Float32Array(7).fill(3);
    releaseBuffer(b);
    expect(takeBuffer(8)).toBeNull();
    expect(takeBuffer(7)).toBe(b);
    expect(takeBuffer(7)).toBeNull();
  });
  it('gradBuffer() zeroes a recycled buffer, freshGrad() may not', () => {
    clearPool();
    releaseBuffer(new Float32Array(3).fill(9));
    const t = new Tensor(new Float32Array(3), [3], true);
    expect(Array.from(t.gradBuffer())).toEqual([0, 0, 0]);
  });
  it('repeated steps over recycled buffers give the same gradients as the first', () => {
    clearPool();
    const rng = new Rng(1);
    const x = randn([5, 4], { rng });
    const w = randn([3, 4], { rng, requiresGrad: true });
    const b = randn([3], { rng, requiresGrad: true });
    const step = () => {
      w.zeroGrad();
      b.zeroGrad();
      sum(mul(relu(sigmoid(linear(x, w, b))), 2)).backward();
      return [Array.from(w.grad!), Array.from(b.grad!)];
    };
    const first = step();
    // Dirty the pool with garbage of every size the step uses.
    for (const n of [15, 3, 12, 1]) for (let k = 0; k < 4; k++) releaseBuffer(new Float32Array(n).fill(NaN));
    for (let k = 0; k < 3; k++) expect(step()).toEqual(first);
  });
  it('a tensor used twice accumulates both contributions after a fresh write', () => {
    const a = tensor([1, 2, 3, 4], [2, 2], { requiresGrad: true });
    // d/dA sum(A A) = ones A^T + A^T ones: row sums of A (3, 7) along rows plus column sums (4, 6) down columns.
    sum(matmul(a, a)).backward();
    expect(Array.from(a.grad!)).toEqual([3 + 4, 7 + 4, 3 + 6, 7 + 6]);
  });
  it('backward(grad) neither modifies nor recycles the caller\'s array', () => {
    clearPool();
    const x = tensor([1, -2, 3], [3], { requiresGrad: true });
    const g = Float32Array.from([0.5, 0.25, 2]);
    relu(mul(x, 1)).backward(g);
    expect(Array.from(g)).toEqual([0.5, 0.25, 2]);
    expect(takeBuffer(3)).not.toBe(g);
    expect(Array.from(x.grad!)).toEqual([0.5, 0, 2]);
  });
});
