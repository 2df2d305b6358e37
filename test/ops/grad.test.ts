// Central-difference gradient checks of every backend-independent op, contracted with a random cotangent.
import { describe, expect, it } from 'vitest';
import { gradCheck, randLeaf } from '../helpers/gradcheck.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { Rng } from '../../src/tensor/rng.js';
import { add, sub, mul, div, neg, exp, log, sqrt, pow } from '../../src/ops/elementwise.js';
import { sum, mean } from '../../src/ops/reduce.js';
import { reshape, flatten, transpose, permute } from '../../src/ops/shape.js';
import { relu, sigmoid, tanh, softmax, logSoftmax } from '../../src/ops/activation.js';
import { crossEntropy, mseLoss } from '../../src/ops/loss.js';
import { maxPool2d, avgPool2d } from '../../src/ops/pool.js';
import { dropout } from '../../src/ops/dropout.js';

/*
 * Tolerances. gradCheck's error is |analytic - numeric| / max(1, |numeric|) with eps = 1e-2.
 * - Linear ops (add/sub, reductions, reshapes, permutes, pools, dropout): central differences are exact up to
 *   float32 rounding of the outputs, ~1e-7 * |y| / eps ~ 1e-5 per changed output; LINEAR_TOL = 1e-3 leaves 100x room.
 * - Smooth ops: the truncation error is eps^2 / 6 * |f'''| ~ 1.7e-5 * |f'''|; inputs are kept where |f'''| <= ~30
 *   (log/sqrt/pow on x >= 0.5), so SMOOTH_TOL = 3e-3 bounds it with room for rounding.
 * - Kinks (relu, max pooling) are avoided by keeping inputs more than eps away from them (see kinkFree / spaced).
 */
const EPS = 1e-2;
const LINEAR_TOL = 1e-3;
const SMOOTH_TOL = 3e-3;

/** A leaf with values >= lo (for log, sqrt, pow, div denominators). */
function posLeaf(shape: number[], seed: number, lo = 0.5): Tensor {
  const t = randLeaf(shape, seed);
  for (let i = 0; i < t.size; i++) t.data[i] = lo + Math.abs(t.data[i]);
  return t;
}

/** A leaf whose values are at least 5 eps away from 0 (relu's kink). */
function kinkFree(shape: number[], seed: number): Tensor {
  const t = randLeaf(shape, seed);
  for (let i = 0; i < t.size; i++) t.data[i] = Math.sign(t.data[i] || 1) * (5 * EPS + Math.abs(t.data[i]));
  return t;
}

/** A leaf holding a shuffled ladder of values 0.1 apart: no two within 2 eps, so a window's max never changes hands. */
function spaced(shape: number[], seed: number): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const d = new Float32Array(n);
  for (let i = 0; i < n; i++) d[i] = (i - n / 2) * 0.1;
  new Rng(seed).shuffle(d);
  return new Tensor(d, shape, true);
}

const check = (f: (...xs: Tensor[]) => Tensor, inputs: Tensor[], tol: number) => {
  expect(gradCheck(f, inputs, { eps: EPS, tol })).toBeLessThan(tol);
};

describe('elementwise binary ops with broadcasting', () => {
  const pairs: [string, number[], number[]][] = [
    ['same shape', [2, 3], [2, 3]],
    ['trailing column', [2, 3, 4], [3, 1]],
    ['leading batch', [4], [2, 1, 4]],
    ['both broadcast', [2, 1, 3], [1, 4, 1]],
    ['scalar tensor', [3, 2], []],
  ];
  it.each(pairs)('add and sub: %s', (_name, sa, sb) => {
    check(add, [randLeaf(sa, 1), randLeaf(sb, 2)], LINEAR_TOL);
    check(sub, [randLeaf(sa, 3), randLeaf(sb, 4)], LINEAR_TOL);
  });
  it.each(pairs)('mul and div: %s', (_name, sa, sb) => {
    // mul is bilinear: exact under central differences up to rounding.
    check(mul, [randLeaf(sa, 5), randLeaf(sb, 6)], LINEAR_TOL);
    check(div, [randLeaf(sa, 7), posLeaf(sb, 8)], SMOOTH_TOL);
  });
  it('a number as either operand', () => {
    check((x) => add(x, 2.5), [randLeaf([3], 9)], LINEAR_TOL);
    check((x) => sub(1, x), [randLeaf([3], 10)], LINEAR_TOL);
    check((x) => mul(-3, x), [randLeaf([2, 2], 11)], LINEAR_TOL);
    check((x) => div(2, x), [posLeaf([2, 2], 12)], SMOOTH_TOL);
  });
  it('the same tensor on both sides accumulates both partials (x * x, x / x)', () => {
    check((x) => mul(x, x), [randLeaf([2, 3], 13)], LINEAR_TOL);
    check((x) => div(x, add(x, 3)), [posLeaf([2, 3], 14)], SMOOTH_TOL);
  });
});

describe('unary math', () => {
  it('neg', () => check(neg, [randLeaf([2, 3], 20)], LINEAR_TOL));
  it('exp', () => check(exp, [randLeaf([2, 3], 21)], SMOOTH_TOL));
  it('log (x >= 0.5)', () => check(log, [posLeaf([2, 3], 22)], SMOOTH_TOL));
  it('sqrt (x >= 0.5)', () => check(sqrt, [posLeaf([2, 3], 23)], SMOOTH_TOL));
  it.each([2, 3, 0.5, -1.5])('pow with exponent %s', (p) => {
    const x = Number.isInteger(p) ? randLeaf([2, 3], 24) : posLeaf([2, 3], 25, 0.7);
    check((t) => pow(t, p), [x], SMOOTH_TOL);
  });
});

describe('reductions', () => {
  const cases: [string, number | number[] | undefined, boolean][] = [
    ['all', undefined, false],
    ['dim 0', 0, false],
    ['dim -1, keepDims', -1, true],
    ['dims [0, 2]', [0, 2], false],
    ['dims [0, 2], keepDims', [0, 2], true],
    ['dim 1, keepDims', 1, true],
  ];
  it.each(cases)('sum and mean over %s', (_name, dims, keepDims) => {
    check((x) => sum(x, dims, { keepDims }), [randLeaf([2, 3, 4], 30)], LINEAR_TOL);
    check((x) => mean(x, dims, { keepDims }), [randLeaf([2, 3, 4], 31)], LINEAR_TOL);
  });
  it('keepDims keeps size-1 dimensions', () => {
    const x = randLeaf([2, 3, 4], 32);
    expect(sum(x, [0, 2], { keepDims: true }).shape).toEqual([1, 3, 1]);
    expect(mean(x, 1).shape).toEqual([2, 4]);
    expect(sum(x).shape).toEqual([]);
  });
});

describe('shape ops', () => {
  it('reshape (with -1)', () => check((x) => reshape(x, [4, -1]), [randLeaf([2, 3, 4], 40)], LINEAR_TOL));
  it('flatten', () => {
    check((x) => flatten(x), [randLeaf([2, 3, 2, 2], 41)], LINEAR_TOL);
    check((x) => flatten(x, 0, 1), [randLeaf([2, 3, 2], 42)], LINEAR_TOL);
  });
  it('transpose', () => {
    check((x) => transpose(x), [randLeaf([3, 4], 43)], LINEAR_TOL);
    check((x) => transpose(x, 0, 2), [randLeaf([2, 3, 4], 44)], LINEAR_TOL);
  });
  it('permute', () => {
    check((x) => permute(x, [2, 0, 1]), [randLeaf([2, 3, 4], 45)], LINEAR_TOL);
    check((x) => permute(x, [0, 2, 3, 1]), [randLeaf([2, 3, 2, 2], 46)], LINEAR_TOL);
  });
  it('permute and transpose move values where they should', () => {
    const x = new Tensor(Float32Array.from({ length: 24 }, (_, i) => i), [2, 3, 4]);
    const y = permute(x, [2, 0, 1]);
    expect(y.shape).toEqual([4, 2, 3]);
    for (let a = 0; a < 2; a++) for (let b = 0; b < 3; b++) for (let c = 0; c < 4; c++) expect(y.get(c, a, b)).toBe(x.get(a, b, c));
    expect(transpose(x, 0, 2).get(3, 1, 0)).toBe(x.get(0, 1, 3));
  });
});

describe('activations', () => {
  it('relu (inputs away from 0)', () => check(relu, [kinkFree([3, 4], 50)], LINEAR_TOL));
  it('sigmoid', () => check(sigmoid, [randLeaf([3, 4], 51, 2)], SMOOTH_TOL));
  it('tanh', () => check(tanh, [randLeaf([3, 4], 52, 1.5)], SMOOTH_TOL));
  it.each([0, 1, 2, -1])('softmax and logSoftmax along dim %s of a 3-d tensor', (dim) => {
    check((x) => softmax(x, dim), [randLeaf([2, 3, 4], 53)], SMOOTH_TOL);
    check((x) => logSoftmax(x, dim), [randLeaf([2, 3, 4], 54)], SMOOTH_TOL);
  });
  it('softmax and logSoftmax of a 2-d tensor along dim 0', () => {
    check((x) => softmax(x, 0), [randLeaf([4, 3], 55)], SMOOTH_TOL);
    check((x) => logSoftmax(x, 0), [randLeaf([4, 3], 56)], SMOOTH_TOL);
  });
});

describe('losses', () => {
  it.each(['mean', 'sum'] as const)('crossEntropy from logits, reduction %s', (reduction) => {
    const labels = Int32Array.from([2, 0, 3, 3, 1]);
    check((z) => crossEntropy(z, labels, { reduction }), [randLeaf([5, 4], 60, 2)], SMOOTH_TOL);
    // Labels as a plain array are accepted too.
    check((z) => crossEntropy(z, [1, 0], { reduction }), [randLeaf([2, 3], 61)], SMOOTH_TOL);
  });
  it.each(['mean', 'sum'] as const)('mseLoss, gradient to both pred and target, reduction %s', (reduction) => {
    // Quadratic: central differences are exact up to rounding.
    check((p, t) => mseLoss(p, t, { reduction }), [randLeaf([3, 4], 62), randLeaf([3, 4], 63)], LINEAR_TOL);
  });
});

describe('pooling', () => {
  const geoms: [string, number[], number, { stride?: number; padding?: number }][] = [
    ['k2 (stride = k)', [2, 2, 4, 4], 2, {}],
    ['k3 stride 2 padding 1', [1, 2, 5, 5], 3, { stride: 2, padding: 1 }],
    ['k2 stride 1 (overlapping windows)', [1, 2, 4, 3], 2, { stride: 1 }],
    ['k3 stride 2, odd size (last row dropped)', [1, 1, 6, 5], 3, { stride: 2 }],
  ];
  it.each(geoms)('maxPool2d %s', (_name, shape, k, opts) => {
    check((x) => maxPool2d(x, k, opts), [spaced(shape, 70)], LINEAR_TOL);
  });
  it.each(geoms)('avgPool2d %s', (_name, shape, k, opts) => {
    check((x) => avgPool2d(x, k, opts), [randLeaf(shape, 71)], LINEAR_TOL);
  });
});

describe('dropout', () => {
  it('gradient through a fixed mask (same seed each call)', () => {
    check((x) => dropout(x, 0.4, true, new Rng(5)), [randLeaf([4, 5], 80)], LINEAR_TOL);
  });
  it('zeros about p of the values and scales the rest by 1 / (1 - p)', () => {
    const x = new Tensor(new Float32Array(10000).fill(1), [10000]);
    const y = dropout(x, 0.3, true, new Rng(1));
    let zerosCount = 0;
    for (const v of y.data) {
      if (v === 0) zerosCount++;
      else expect(v).toBeCloseTo(1 / 0.7, 6);
    }
    // Binomial(10000, 0.3): std ~46, so +-200 is over 4 sigma.
    expect(Math.abs(zerosCount - 3000)).toBeLessThan(200);
  });
  it('is the identity when not training or p = 0', () => {
    const x = randLeaf([3, 3], 81);
    expect(dropout(x, 0.5, false)).toBe(x);
    expect(dropout(x, 0, true)).toBe(x);
  });
});

describe('composites', () => {
  it('a tensor feeding several ops accumulates every path', () => {
    const f = (x: Tensor, w: Tensor) => logSoftmax(add(mul(tanh(x), w), exp(mul(x, 0.5))), 1);
    check(f, [randLeaf([3, 4], 90), randLeaf([4], 91)], SMOOTH_TOL);
  });
  it('a reduction broadcast back (x - mean(x)) / sqrt(var + eps): the normalization pattern', () => {
    const f = (x: Tensor) => {
      const c = sub(x, mean(x, 0, { keepDims: true }));
      return div(c, sqrt(add(mean(mul(c, c), 0, { keepDims: true }), 1e-5)));
    };
    check(f, [randLeaf([6, 3], 92)], SMOOTH_TOL);
  });
});
