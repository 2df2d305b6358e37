// Gradient checks (central differences, random cotangent) of the BN family, and the fused kernel vs the primitive-op oracle.
import { describe, it, expect } from 'vitest';
import { gradCheck, randLeaf } from '../../helpers/gradcheck.js';
import { batchNorm, batchRenorm } from '../../../src/ops/norm/batchnorm.js';
import { layerNorm, groupNorm } from '../../../src/ops/norm/layernorm.js';
import { batchNormPrimitive } from '../../../src/ops/norm/reference.js';
import { BatchNorm1d, BatchNorm2d } from '../../../src/nn/norm/batchnorm.js';
import { BatchRenorm1d, BatchRenorm2d } from '../../../src/nn/norm/renorm.js';
import { Tensor } from '../../../src/tensor/tensor.js';
import { Rng } from '../../../src/tensor/rng.js';
import { expectClose } from './helpers.js';

const SHAPES: [string, number[]][] = [
  ['1d (N, C)', [6, 3]],
  ['1d (N, C, L)', [4, 3, 5]],
  ['2d (N, C, H, W)', [3, 2, 3, 4]],
];

/** gamma around 1 and beta around 0, requiring grad. */
function affine(C: number, seed: number): [Tensor, Tensor] {
  const w = randLeaf([C], seed, 0.5);
  for (let i = 0; i < C; i++) w.data[i] += 1;
  return [w, randLeaf([C], seed + 1, 0.5)];
}

/** Per-channel offsets so that every channel has its own mean. */
function input(shape: number[], seed: number): Tensor {
  const x = randLeaf(shape, seed, 1.5);
  const S = x.size / (shape[0] * shape[1]);
  for (let i = 0; i < x.size; i++) x.data[i] += Math.floor(i / S) % shape[1];
  return x;
}

describe('batchNorm gradients (training mode, batch statistics)', () => {
  for (const [label, shape] of SHAPES) {
    const C = shape[1];
    it(`${label} with affine: x, weight, bias`, () => {
      const [w, b] = affine(C, 11);
      const err = gradCheck((x, w, b) => batchNorm(x, null, null, w, b, { training: true }), [input(shape, 1), w, b]);
      expect(err).toBeLessThan(2e-2);
    });
    it(`${label} without affine: x`, () => {
      gradCheck((x) => batchNorm(x, null, null, null, null, { training: true, eps: 1e-3 }), [input(shape, 2)]);
    });
    it(`${label} module in training mode (running statistics updated on every call)`, () => {
      const m = shape.length === 4 ? new BatchNorm2d(C) : new BatchNorm1d(C);
      [m.weight!.data[0], m.bias!.data[C - 1]] = [1.7, -0.4];
      gradCheck((x, w, b) => {
        m.weight = w;
        m.bias = b;
        return m.forward(x);
      }, [input(shape, 3), m.weight!, m.bias!]);
    });
  }

  it('eval mode (running statistics): x, weight, bias', () => {
    const rm = new Tensor(Float32Array.from([0.3, -1, 2]), [3]);
    const rv = new Tensor(Float32Array.from([0.5, 2, 1.3]), [3]);
    const [w, b] = affine(3, 5);
    gradCheck((x, w, b) => batchNorm(x, rm, rv, w, b, { training: false }), [input([4, 3, 2], 4), w, b]);
  });

  it('Ghost BN (virtualBatchSize 2 of 6, and 4 of 6 with a smaller last sub-batch)', () => {
    for (const vbs of [2, 4]) {
      const m = new BatchNorm1d(3, { virtualBatchSize: vbs });
      gradCheck((x) => m.forward(x), [input([6, 3, 2], 5 + vbs)]);
    }
  });
});

describe('the fused kernel equals the same computation written with primitive ops', () => {
  for (const [label, shape] of [...SHAPES, ['1d (N, C) with C = 6', [7, 6]], ['2d larger', [8, 5, 7, 6]]] as [string, number[]][]) {
    for (const withAffine of [true, false]) {
      it(`${label}, affine ${withAffine}: outputs and gradients of x, weight, bias`, () => {
        const C = shape[1];
        const x1 = input(shape, 21);
        const x2 = new Tensor(x1.data.slice(), shape, true);
        const [w1, b1] = withAffine ? affine(C, 22) : [null, null];
        const [w2, b2] = withAffine ? [new Tensor(w1!.data.slice(), [C], true), new Tensor(b1!.data.slice(), [C], true)] : [null, null];
        const y1 = batchNorm(x1, null, null, w1, b1, { training: true });
        const y2 = batchNormPrimitive(x2, w2, b2, 1e-5);
        expectClose(y1.data, y2.data, 'y', { rtol: 1e-5, atol: 1e-5 });
        const rng = new Rng(9);
        const dy = Float32Array.from({ length: y1.size }, () => rng.normal());
        y1.backward(dy);
        y2.backward(dy);
        expectClose(x1.grad, x2.grad!, 'dx', { rtol: 1e-4, atol: 1e-5 });
        if (withAffine) {
          expectClose(w1!.grad, w2!.grad!, 'dweight', { rtol: 1e-4, atol: 1e-5 });
          expectClose(b1!.grad, b2!.grad!, 'dbias', { rtol: 1e-4, atol: 1e-5 });
        }
      });
    }
  }
});

describe('gradient accumulation', () => {
  for (const [label, shape] of [['(N, C)', [5, 6]], ['(N, C, H, W)', [3, 2, 3, 3]]] as [string, number[]][]) {
    it(`${label}: adds to an existing x gradient (training and eval)`, () => {
      for (const training of [true, false]) {
        const C = shape[1];
        const rm = new Tensor(new Float32Array(C).fill(0.5), [C]);
        const rv = new Tensor(new Float32Array(C).fill(2), [C]);
        const x = input(shape, 90);
        const rng = new Rng(5);
        const dy = Float32Array.from({ length: x.size }, () => rng.normal());
        batchNorm(x, rm, rv, null, null, { training, momentum: 0 }).backward(dy);
        const once = x.grad!.slice();
        batchNorm(x, rm, rv, null, null, { training, momentum: 0 }).backward(dy);
        expectClose(x.grad, once.map((v) => 2 * v), `${training ? 'training' : 'eval'} accumulated dx`, { rtol: 1e-6, atol: 1e-7 });
      }
    });
  }
});

describe('Batch Renorm gradients (r and d are constants)', () => {
  it('matches the primitive-op oracle with r and d inside their limits and clipped', () => {
    const shape = [5, 3, 4];
    const rmean = Float32Array.from([0.2, 1.5, -3]);
    const rvar = Float32Array.from([0.8, 4, 0.05]);
    const x1 = input(shape, 31);
    const x2 = new Tensor(x1.data.slice(), shape, true);
    const [w1, b1] = affine(3, 32);
    const [w2, b2] = [new Tensor(w1.data.slice(), [3], true), new Tensor(b1.data.slice(), [3], true)];
    const lim = { rMax: 1.5, dMax: 0.5 };
    const y1 = batchRenorm(x1, new Tensor(rmean.slice(), [3]), new Tensor(rvar.slice(), [3]), w1, b1, { training: true, ...lim });
    const y2 = batchNormPrimitive(x2, w2, b2, 1e-5, { runningMean: rmean, runningVar: rvar, ...lim });
    expectClose(y1.data, y2.data, 'y', { rtol: 1e-5, atol: 1e-5 });
    const rng = new Rng(3);
    const dy = Float32Array.from({ length: y1.size }, () => rng.normal());
    y1.backward(dy);
    y2.backward(dy);
    expectClose(x1.grad, x2.grad!, 'dx', { rtol: 1e-4, atol: 1e-5 });
    expectClose(w1.grad, w2.grad!, 'dweight', { rtol: 1e-4, atol: 1e-5 });
    expectClose(b1.grad, b2.grad!, 'dbias', { rtol: 1e-4, atol: 1e-5 });
  });

  it('central differences where r and d sit at their clip limits (so constant is also the true derivative)', () => {
    for (const [Ctor, shape] of [
      [BatchRenorm1d, [6, 3, 2]],
      [BatchRenorm2d, [3, 3, 2, 2]],
    ] as const) {
      // momentum 0 keeps the running statistics (hence r and d) fixed across the finite-difference calls;
      // running var 100 puts sigma_B / sigma far below 1/rMax, running mean 10 puts d far below -dMax.
      const m = new Ctor(3, { momentum: 0, rMax: 2, dMax: 0.5 });
      m.runningVar!.data.fill(100);
      m.runningMean!.data.fill(10);
      const [w, b] = affine(3, 41);
      gradCheck((x, w, b) => {
        m.weight = w;
        m.bias = b;
        return m.forward(x);
      }, [input([...shape], 42), w, b]);
    }
  });
});

describe('LayerNorm and GroupNorm gradients', () => {
  it('layerNorm over the last one and two dimensions, with and without affine', () => {
    const [w, b] = [randLeaf([5], 51, 0.5), randLeaf([5], 52, 0.5)];
    gradCheck((x, w, b) => layerNorm(x, [5], w, b), [input([3, 4, 5], 53), w, b]);
    const [w2, b2] = [randLeaf([4, 5], 54, 0.5), randLeaf([4, 5], 55, 0.5)];
    gradCheck((x, w, b) => layerNorm(x, [4, 5], w, b), [input([3, 4, 5], 56), w2, b2]);
    gradCheck((x) => layerNorm(x, [6]), [input([4, 6], 57)]);
  });

  it('groupNorm with 1, 2 and C groups, with and without affine', () => {
    for (const G of [1, 2, 4]) {
      const [w, b] = affine(4, 60 + G);
      gradCheck((x, w, b) => groupNorm(x, G, w, b), [input([2, 4, 3, 2], 70 + G), w, b]);
    }
    gradCheck((x) => groupNorm(x, 2, null, null, 1e-3), [input([3, 4, 5], 80)]);
  });
});
