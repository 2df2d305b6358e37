// Errors of ops and tensors: shape mismatches name the op, the shapes got and expected; bad arguments never surface as raw TypeErrors.
import { describe, expect, it } from 'vitest';
import { Tensor } from '../../src/tensor/tensor.js';
import { tensor, zeros, randn } from '../../src/tensor/create.js';
import { ArgumentError, BnlabError, ShapeError } from '../../src/tensor/errors.js';
import { add, mul, pow } from '../../src/ops/elementwise.js';
import { sum, mean } from '../../src/ops/reduce.js';
import { reshape, permute, flatten } from '../../src/ops/shape.js';
import { matmul, linear } from '../../src/ops/matmul.js';
import { conv2d } from '../../src/ops/conv.js';
import { maxPool2d, avgPool2d } from '../../src/ops/pool.js';
import { relu, softmax } from '../../src/ops/activation.js';
import { crossEntropy, mseLoss } from '../../src/ops/loss.js';
import { dropout } from '../../src/ops/dropout.js';

/** Runs f, expects a bnlab error of class `cls` whose message matches every pattern. */
function fails(f: () => unknown, cls: typeof BnlabError, ...patterns: (RegExp | string)[]): void {
  let err: unknown = null;
  try {
    f();
  } catch (e) {
    err = e;
  }
  expect(err, 'expected a throw').toBeInstanceOf(cls);
  for (const p of patterns) expect((err as Error).message).toMatch(p);
}

const x23 = () => randn([2, 3]);

describe('shape mismatches name the op, what it got and what it expected', () => {
  it('linear with the wrong number of in-features', () => {
    fails(() => linear(randn([5, 4]), randn([3, 6])), ShapeError, 'linear', '(N, 6)', '[5, 4]');
    fails(() => linear(randn([5, 6]), randn([3, 6]), randn([4])), ShapeError, 'linear', 'bias', '[3]', '[4]');
    fails(() => linear(randn([5, 6]), randn([3, 6, 1])), ShapeError, 'linear', '[3, 6, 1]');
  });
  it('add with shapes that do not broadcast', () => {
    fails(() => add(randn([2, 3]), randn([4, 3])), ShapeError, 'add', '[2, 3]', '[4, 3]', 'broadcast');
    fails(() => mul(randn([3]), randn([2, 2])), ShapeError, 'mul', '[3]', '[2, 2]');
  });
  it('matmul with inner dimensions that differ', () => {
    fails(() => matmul(randn([2, 3]), randn([4, 5])), ShapeError, 'matmul', '(m, k) and (k, n)', '[2, 3]', '[4, 5]');
  });
  it('conv2d with the wrong channels, rank or too small an input', () => {
    fails(() => conv2d(randn([1, 2, 5, 5]), randn([4, 3, 3, 3])), ShapeError, 'conv2d', '(N, 3, H, W)', '[1, 2, 5, 5]');
    fails(() => conv2d(randn([2, 5, 5]), randn([4, 2, 3, 3])), ShapeError, 'conv2d', '[2, 5, 5]');
    fails(() => conv2d(randn([1, 1, 2, 2]), randn([1, 1, 3, 3])), ShapeError, 'conv2d', 'smaller than kernel');
    fails(() => conv2d(randn([1, 1, 5, 5]), randn([2, 1, 3, 3]), randn([3])), ShapeError, 'conv2d', 'bias', '[2]', '[3]');
  });
  it('pooling on a non-4-d input or a window larger than the input', () => {
    fails(() => maxPool2d(randn([3, 4, 4]), 2), ShapeError, 'maxPool2d', '(N, C, H, W)', '[3, 4, 4]');
    fails(() => avgPool2d(randn([1, 1, 2, 2]), 3), ShapeError, 'avgPool2d', '3x3');
  });
  it('losses with mismatched shapes', () => {
    fails(() => mseLoss(randn([2, 3]), randn([3, 2])), ShapeError, 'mseLoss', '[2, 3]', '[3, 2]');
    fails(() => crossEntropy(randn([3, 4]), [0, 1]), ShapeError, 'crossEntropy', '2 labels', '3 rows', '[3, 4]');
    fails(() => crossEntropy(randn([3]), [0, 1, 2]), ShapeError, 'crossEntropy', '(N, C)', '[3]');
  });
  it('reshape to a different number of values', () => {
    fails(() => reshape(randn([2, 3]), [4, 2]), ShapeError, 'reshape', '[2, 3]', '[4, 2]');
    fails(() => reshape(randn([2, 3]), [4, -1]), ShapeError, 'reshape');
  });
});

describe('bad arguments get a message', () => {
  it('crossEntropy with an out-of-range or non-integer label', () => {
    fails(() => crossEntropy(randn([2, 3]), [0, 3]), ArgumentError, 'crossEntropy', 'label 3', 'position 1', '[0, 2]');
    fails(() => crossEntropy(randn([2, 3]), [-1, 0]), ArgumentError, 'label -1');
    fails(() => crossEntropy(randn([2, 3]), [0.5, 0]), ArgumentError, 'label 0.5');
    fails(() => crossEntropy(randn([2, 3]), [0, 1], { reduction: 'none' as never }), ArgumentError, 'reduction');
  });
  it('a number (or null, or an array) where a Tensor is expected', () => {
    fails(() => relu(3 as never), ArgumentError, "relu: 'x' must be a Tensor, got number 3");
    fails(() => linear(x23(), 3 as never), ArgumentError, "linear: 'weight' must be a Tensor");
    fails(() => linear(randn([2, 3]), randn([4, 3]), 5 as never), ArgumentError, "linear: 'bias' must be a Tensor");
    fails(() => conv2d(randn([1, 1, 3, 3]), randn([1, 1, 2, 2]), 5 as never), ArgumentError, "conv2d: 'bias' must be a Tensor");
    fails(() => matmul([[1, 2]] as never, x23()), ArgumentError, "matmul: 'a' must be a Tensor, got an array");
    fails(() => add(x23(), null as never), ArgumentError, "add: 'b' must be a Tensor, got null");
    fails(() => mseLoss(x23(), undefined as never), ArgumentError, 'mseLoss', 'target');
    fails(() => flatten('x' as never), ArgumentError, 'flatten');
  });
  it('bad dims, shapes, windows and exponents', () => {
    fails(() => sum(x23(), 2), ArgumentError, 'sum', 'dim 2', '2 dimensions');
    fails(() => mean(x23(), [0, 0]), ArgumentError, 'mean', 'more than once');
    fails(() => softmax(x23(), 0.5), ArgumentError, 'softmax', 'dim 0.5');
    fails(() => permute(x23(), [0, 0]), ArgumentError, 'permute', 'not a permutation');
    fails(() => permute(x23(), 1 as never), ArgumentError, 'permute', 'array');
    fails(() => reshape(x23(), 6 as never), ArgumentError, 'reshape', 'array');
    fails(() => maxPool2d(randn([1, 1, 4, 4]), 0), ArgumentError, 'maxPool2d', 'kernelSize');
    fails(() => maxPool2d(randn([1, 1, 4, 4]), 2, { padding: 2 }), ArgumentError, 'maxPool2d', 'padding');
    fails(() => conv2d(randn([1, 1, 4, 4]), randn([1, 1, 3, 3]), null, { stride: 0 }), ArgumentError, 'conv2d', 'stride');
    fails(() => pow(x23(), NaN), ArgumentError, 'pow', 'exponent');
    fails(() => dropout(x23(), 1), ArgumentError, 'dropout', '[0, 1)');
    fails(() => dropout(x23(), 0.5, true, 3 as never), ArgumentError, 'dropout', 'rng');
  });
  it('tensor creation', () => {
    fails(() => tensor([[1, 2], [3]]), ArgumentError, 'ragged');
    fails(() => tensor('abc' as never), ArgumentError, 'tensor');
    fails(() => tensor([1, 'a'] as never, [2]), ArgumentError, 'numbers');
    fails(() => zeros([2, -1]), ArgumentError, 'zeros', '[2,-1]');
    fails(() => zeros(3 as never), ArgumentError, 'zeros');
    fails(() => new Tensor(new Float32Array(5), [2, 3]), ShapeError, '5 values', '[2, 3]');
    fails(() => new Tensor([1, 2] as never, [2]), ArgumentError, 'Float32Array');
    fails(() => x23().get(0, 3), ArgumentError, 'index 3');
    fails(() => x23().get(0), ArgumentError, '1 coordinates', 'needs 2');
    fails(() => x23().item(), ShapeError, 'item', '[2, 3]');
  });
  it('backward misuse', () => {
    const y = mul(randn([2], { requiresGrad: true }), 2);
    fails(() => y.backward(), ArgumentError, 'backward', 'one value', '[2]');
    fails(() => y.backward(new Float32Array(3)), ArgumentError, 'backward', '3 values', '[2]');
    fails(() => y.backward(1 as never), ArgumentError, 'backward', 'Float32Array');
    fails(() => sum(randn([2])).backward(), ArgumentError, 'does not require grad');
  });
});
