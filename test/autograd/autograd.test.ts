// The tape: accumulation, shared subgraphs, noGrad, freeing after backward, deep graphs.
import { describe, expect, it } from 'vitest';
import { Tensor } from '../../src/tensor/tensor.js';
import { tensor } from '../../src/tensor/create.js';
import { noGrad, isGradEnabled } from '../../src/autograd/grad-mode.js';
import { add, mul, exp } from '../../src/ops/elementwise.js';
import { sum } from '../../src/ops/reduce.js';
import { ArgumentError } from '../../src/tensor/errors.js';
import { gradCheck, randLeaf } from '../helpers/gradcheck.js';
import { record } from '../../src/autograd/record.js';

const leaf = (v: number[]) => tensor(v, [v.length], { requiresGrad: true });

describe('backward', () => {
  it('gives exact gradients of a small expression', () => {
    // f = sum(x * y + x) -> df/dx = y + 1, df/dy = x
    const x = leaf([1, 2, 3]);
    const y = leaf([4, 5, 6]);
    sum(add(mul(x, y), x)).backward();
    expect(Array.from(x.grad!)).toEqual([5, 6, 7]);
    expect(Array.from(y.grad!)).toEqual([1, 2, 3]);
  });
  it('accumulates into leaf gradients across calls until they are cleared', () => {
    const x = leaf([1, 2]);
    sum(mul(x, 3)).backward();
    sum(mul(x, 3)).backward();
    expect(Array.from(x.grad!)).toEqual([6, 6]);
    x.zeroGrad();
    expect(x.grad).toBeNull();
  });
  it('a tensor used along several paths (diamond) gets the sum of all of them', () => {
    const x = leaf([0.5, -1]);
    const a = mul(x, 2);
    const b = exp(a);
    sum(add(mul(a, b), a)).backward(); // d/dx [2x e^{2x} + 2x] = 2 e^{2x} + 4x e^{2x} + 2
    for (let i = 0; i < 2; i++) {
      const v = x.data[i];
      expect(x.grad![i]).toBeCloseTo(2 * Math.exp(2 * v) + 4 * v * Math.exp(2 * v) + 2, 5);
    }
  });
  it('keeps leaf gradients, drops intermediate ones', () => {
    const x = leaf([1, 2]);
    const h = mul(x, 2);
    sum(h).backward();
    expect(x.grad).not.toBeNull();
    expect(h.grad).toBeNull();
  });
  it('a second backward through a consumed graph throws instead of silently doing nothing', () => {
    const x = leaf([1, 2]);
    const y = sum(mul(x, 2));
    y.backward();
    expect(() => y.backward()).toThrow(ArgumentError);
    expect(() => y.backward()).toThrow(/already consumed/);
    // Recomputing the forward pass works.
    sum(mul(x, 2)).backward();
    expect(Array.from(x.grad!)).toEqual([4, 4]);
  });
  it('tensors that do not require grad are not recorded and get no gradient', () => {
    const x = leaf([1, 2]);
    const c = tensor([3, 4]);
    const y = mul(x, c);
    expect(y.requiresGrad).toBe(true);
    expect(y.parents).toContain(x);
    sum(y).backward();
    expect(c.grad).toBeNull();
    const z = mul(c, c);
    expect(z.requiresGrad).toBe(false);
    expect(z.isLeaf).toBe(true);
  });
  it('a deep chain (20000 ops) does not overflow the stack', () => {
    const x = leaf([1]);
    let h: Tensor = x;
    for (let i = 0; i < 20000; i++) h = add(h, 0);
    sum(h).backward();
    expect(x.grad![0]).toBe(1);
  });
  it('backward from a non-scalar with an explicit gradient', () => {
    const x = leaf([1, 2, 3]);
    mul(x, x).backward(new Float32Array([1, 0, -1]));
    expect(Array.from(x.grad!)).toEqual([2, 0, -6]);
  });
  it('record names the op even when nothing is recorded', () => {
    const out = record(new Tensor(new Float32Array(1), []), 'myop', [tensor([1])], () => {});
    expect(out.op).toBe('myop');
    expect(out.backwardFn).toBeNull();
  });
});

describe('noGrad', () => {
  it('records nothing inside, and restores the mode after a throw', () => {
    const x = leaf([1, 2]);
    const y = noGrad(() => mul(x, 2));
    expect(y.requiresGrad).toBe(false);
    expect(y.parents).toEqual([]);
    expect(() => noGrad(() => {
      throw new Error('boom');
    })).toThrow('boom');
    expect(isGradEnabled()).toBe(true);
    expect(noGrad(() => noGrad(() => isGradEnabled()))).toBe(false);
    expect(isGradEnabled()).toBe(true);
  });
});

describe('gradCheck helper', () => {
  it('catches a wrong backward rule that a .sum() check would pass', () => {
    // y = x - mean(x) with a rule that passes no gradient at all: sum(y) is constant, so d(sum y)/dx = 0 and a
    // .sum() check would agree with the broken rule. The random cotangent exposes it (the trap DESIGN.md warns of for BN).
    const centeredNoGrad = (x: Tensor) => {
      const m = x.data.reduce((a, b) => a + b, 0) / x.size;
      return record(new Tensor(x.data.map((v) => v - m), x.shape), 'bad', [x], () => {
        x.gradBuffer();
      });
    };
    const ones = (x: Tensor) => sum(centeredNoGrad(x));
    expect(gradCheck(ones, [randLeaf([4], 1)], { eps: 1e-2, tol: 1e-3 })).toBeLessThan(1e-3);
    expect(() => gradCheck(centeredNoGrad, [randLeaf([4], 1)], { eps: 1e-2, tol: 1e-3 })).toThrow(/gradCheck: input 0/);
  });
  it('passes a correct rule with a tiny error', () => {
    expect(gradCheck((x) => mul(x, x), [randLeaf([5], 2)], { eps: 1e-2, tol: 1e-3 })).toBeLessThan(1e-4);
  });
});
