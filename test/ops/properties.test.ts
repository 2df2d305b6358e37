// Gradient checks on random small shapes (fast-check): broadcasting pairs, reduction dims, permutations, softmax dims.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { gradCheck, randLeaf } from '../helpers/gradcheck.js';
import { add, mul, div, sub } from '../../src/ops/elementwise.js';
import { sum, mean } from '../../src/ops/reduce.js';
import { permute, reshape } from '../../src/ops/shape.js';
import { softmax, logSoftmax } from '../../src/ops/activation.js';
import { broadcastShapes } from '../../src/ops/util.js';
import type { Tensor } from '../../src/tensor/tensor.js';

// Same tolerances as grad.test.ts: linear ops are exact up to rounding (1e-3), smooth ones carry eps^2 f''' (3e-3).
const EPS = 1e-2;
const LINEAR_TOL = 1e-3;
const SMOOTH_TOL = 3e-3;
const RUNS = { numRuns: 25, seed: 2024 };

const shapeArb = fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 0, maxLength: 3 });
/** A shape and a partner that broadcasts with it: each trailing dim kept, set to 1, or dropped from the front. */
const pairArb = shapeArb.chain((s) =>
  fc.tuple(fc.constant(s), fc.array(fc.boolean(), { minLength: s.length, maxLength: s.length }), fc.integer({ min: 0, max: s.length })).map(([a,
    ones, drop]) => {
    const b = a.map((d, i) => (ones[i] ? 1 : d)).slice(drop);
    return [a, b] as const;
  }),
);
const positive = (t: Tensor) => {
  for (let i = 0; i < t.size; i++) t.data[i] = 0.5 + Math.abs(t.data[i]);
  return t;
};

describe('random shapes', () => {
  it('binary ops broadcast both ways and route gradients back to both inputs', () => {
    fc.assert(fc.property(pairArb, fc.boolean(), ([a, b], swap) => {
      const [sa, sb] = swap ? [b, a] : [a, b];
      expect(add(randLeaf(sa, 1), randLeaf(sb, 2)).shape).toEqual(broadcastShapes('add', sa, sb));
      gradCheck(add, [randLeaf(sa, 3), randLeaf(sb, 4)], { eps: EPS, tol: LINEAR_TOL });
      gradCheck(sub, [randLeaf(sa, 5), randLeaf(sb, 6)], { eps: EPS, tol: LINEAR_TOL });
      gradCheck(mul, [randLeaf(sa, 7), randLeaf(sb, 8)], { eps: EPS, tol: LINEAR_TOL });
      gradCheck(div, [randLeaf(sa, 9), positive(randLeaf(sb, 10))], { eps: EPS, tol: SMOOTH_TOL });
    }), RUNS);
  });
  it('sum and mean over any subset of dims, with and without keepDims', () => {
    fc.assert(fc.property(shapeArb.filter((s) => s.length > 0), fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }), fc.boolean(), (s, pick,
      keepDims) => {
      const dims = s.map((_, i) => i).filter((i) => pick[i]);
      if (dims.length === 0) dims.push(-1);
      gradCheck((x) => sum(x, dims, { keepDims }), [randLeaf(s, 11)], { eps: EPS, tol: LINEAR_TOL });
      gradCheck((x) => mean(x, dims, { keepDims }), [randLeaf(s, 12)], { eps: EPS, tol: LINEAR_TOL });
    }), RUNS);
  });
  it('permute by any permutation, then reshape flat', () => {
    const arb = fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 4 }).chain((s) =>
      fc.tuple(fc.constant(s), fc.shuffledSubarray(s.map((_, i) => i), { minLength: s.length, maxLength: s.length })));
    fc.assert(fc.property(arb, ([s, perm]) => {
      gradCheck((x) => reshape(permute(x, perm), [-1]), [randLeaf(s, 13)], { eps: EPS, tol: LINEAR_TOL });
    }), RUNS);
  });
  it('softmax and logSoftmax along any dim', () => {
    const arb = fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 3 }).chain((s) =>
      fc.tuple(fc.constant(s), fc.integer({ min: -s.length, max: s.length - 1 })));
    fc.assert(fc.property(arb, ([s, dim]) => {
      gradCheck((x) => softmax(x, dim), [randLeaf(s, 14)], { eps: EPS, tol: SMOOTH_TOL });
      gradCheck((x) => logSoftmax(x, dim), [randLeaf(s, 15)], { eps: EPS, tol: SMOOTH_TOL });
    }), RUNS);
  });
});
