// BN invariants: normalized moments, eval as an affine map, running-statistics closed forms, numerics, errors.
import { describe, it, expect } from 'vitest';
import { BatchNorm1d, BatchNorm2d } from '../../../src/nn/norm/batchnorm.js';
import { batchNorm } from '../../../src/ops/norm/batchnorm.js';
import { Tensor } from '../../../src/tensor/tensor.js';
import { Rng } from '../../../src/tensor/rng.js';
import { randn } from '../../../src/tensor/create.js';
import { ShapeError } from '../../../src/tensor/errors.js';
import { channelMoments, expectClose } from './helpers.js';

function data(shape: number[], seed: number, f: (rng: Rng, c: number) => number): Tensor {
  const rng = new Rng(seed);
  const t = new Tensor(new Float32Array(shape.reduce((a, b) => a * b, 1)), shape);
  const C = shape[1];
  const S = t.size / (shape[0] * C);
  for (let i = 0; i < t.size; i++) t.data[i] = f(rng, Math.floor(i / S) % C);
  return t;
}

describe('training mode normalizes each channel', () => {
  for (const shape of [[32, 5], [8, 4, 9], [4, 3, 6, 5]]) {
    it(`${JSON.stringify(shape)}: per-channel mean ~0 and variance ~1 (biased), whatever the input scale`, () => {
      const m = shape.length === 4 ? new BatchNorm2d(shape[1]) : new BatchNorm1d(shape[1]);
      const x = data(shape, 1, (rng, c) => 3 * c - 4 + (c + 0.5) * 2 * rng.normal());
      const { mean, variance } = channelMoments(m.forward(x));
      const veps = channelMoments(x).variance;
      mean.forEach((v) => expect(Math.abs(v)).toBeLessThan(1e-6));
      // var(y) = var / (var + eps) exactly; ~1 here.
      variance.forEach((v, c) => expect(v).toBeCloseTo(veps[c] / (veps[c] + 1e-5), 5));
    });
  }
});

describe('eval mode', () => {
  it('on a constant input gives the affine map gamma/sqrt(Var+eps) x + (beta - gamma E[x]/sqrt(Var+eps))', () => {
    const m = new BatchNorm2d(3).eval();
    m.runningMean!.data.set([0.5, -2, 10]);
    m.runningVar!.data.set([4, 0.25, 9]);
    m.weight!.data.set([2, -1, 0.5]);
    m.bias!.data.set([0.1, 0.2, -3]);
    for (const v of [0, 1.5, -7]) {
      const y = m.forward(new Tensor(new Float32Array(2 * 3 * 2 * 2).fill(v), [2, 3, 2, 2]));
      for (let c = 0; c < 3; c++) {
        const s = m.weight!.data[c] / Math.sqrt(m.runningVar!.data[c] + 1e-5);
        const expected = s * v + (m.bias!.data[c] - s * m.runningMean!.data[c]);
        for (let n = 0; n < 2; n++) for (let i = 0; i < 4; i++) expect(y.data[(n * 3 + c) * 4 + i]).toBeCloseTo(expected, 5);
      }
    }
  });

  it('accepts a batch of one (pytorch#4741) and leaves running statistics and num_batches_tracked alone', () => {
    const m = new BatchNorm1d(4).eval();
    const y = m.forward(new Tensor(Float32Array.from([1, 2, 3, 4]), [1, 4]));
    expectClose(y.data, [1, 2, 3, 4].map((v) => v / Math.sqrt(1 + 1e-5)), 'y');
    expect(m.numBatchesTracked!.item()).toBe(0);
    expect(Array.from(m.runningMean!.data)).toEqual([0, 0, 0, 0]);
  });

  it('without tracked statistics uses the batch statistics in eval too', () => {
    const m = new BatchNorm1d(3, { trackRunningStats: false }).eval();
    expect(Object.keys(m.stateDict())).toEqual(['weight', 'bias']);
    const x = data([10, 3], 2, (rng, c) => 5 + c + rng.normal());
    const { mean } = channelMoments(m.forward(x));
    mean.forEach((v) => expect(Math.abs(v)).toBeLessThan(1e-6));
  });
});

describe('running statistics', () => {
  it('follow the closed forms: momentum m and cumulative average (momentum null)', () => {
    const xs = [0, 1, 2, 3].map((k) => data([5, 2, 3], 10 + k, (rng, c) => c + k + rng.normal() * (1 + k)));
    const stats = xs.map((x) => {
      const { mean, variance } = channelMoments(x);
      return { mean, unbiased: variance.map((v) => (v * 15) / 14) };
    });
    const ema = new BatchNorm1d(2, { momentum: 0.3 });
    const cma = new BatchNorm1d(2, { momentum: null });
    xs.forEach((x) => (ema.forward(x), cma.forward(x)));
    for (let c = 0; c < 2; c++) {
      let rm = 0;
      let rv = 1;
      for (const s of stats) {
        rm = 0.7 * rm + 0.3 * s.mean[c];
        rv = 0.7 * rv + 0.3 * s.unbiased[c];
      }
      expect(ema.runningMean!.data[c]).toBeCloseTo(rm, 5);
      expect(ema.runningVar!.data[c]).toBeCloseTo(rv, 5);
      expect(cma.runningMean!.data[c]).toBeCloseTo(stats.reduce((a, s) => a + s.mean[c], 0) / 4, 5);
      expect(cma.runningVar!.data[c]).toBeCloseTo(stats.reduce((a, s) => a + s.unbiased[c], 0) / 4, 5);
    }
    expect(ema.numBatchesTracked!.item()).toBe(4);
    expect(cma.numBatchesTracked!.item()).toBe(4);
  });

  it('the functional form updates given running statistics in place and accepts none', () => {
    const rm = new Tensor(new Float32Array(2), [2]);
    const rv = new Tensor(new Float32Array(2).fill(1), [2]);
    const x = data([4, 2], 3, (rng, c) => 2 * c + rng.normal());
    batchNorm(x, rm, rv, null, null, { training: true, momentum: 1 });
    const { mean, variance } = channelMoments(x);
    expectClose(rm.data, mean, 'running_mean', { rtol: 1e-6 });
    expectClose(rv.data, variance.map((v) => (v * 4) / 3), 'running_var', { rtol: 1e-6 });
    expect(() => batchNorm(x, null, null)).toThrow(/running_mean and running_var/);
    expect(batchNorm(x, null, null, null, null, { training: true }).shape).toEqual([4, 2]);
  });

  it('state dict keys and order are PyTorch\'s', () => {
    expect(Object.keys(new BatchNorm2d(3).stateDict())).toEqual(['weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked']);
    expect(Object.keys(new BatchNorm2d(3, { affine: false }).stateDict())).toEqual(['running_mean', 'running_var', 'num_batches_tracked']);
    expect(new BatchNorm2d(3).stateDict().num_batches_tracked.shape).toEqual([]);
  });
});

describe('numerics: no NaN or Inf, moments still ~0 / ~1', () => {
  const finite = (t: Tensor) => t.data.every((v) => Number.isFinite(v));

  it('a constant channel gives beta (x_hat = 0) and finite gradients', () => {
    const m = new BatchNorm2d(2);
    m.bias!.data.set([0.25, -1]);
    const x = data([3, 2, 4, 4], 4, (rng, c) => (c === 0 ? 7 : rng.normal()));
    x.requiresGrad = true;
    const y = m.forward(x);
    for (let n = 0; n < 3; n++) for (let i = 0; i < 16; i++) expect(y.data[n * 32 + i]).toBe(0.25);
    y.backward(randn([3, 2, 4, 4], { rng: new Rng(1) }).data);
    expect(finite(x) && finite(new Tensor(x.grad!, x.shape)) && finite(m.runningVar!)).toBe(true);
    expect(m.runningVar!.data[0]).toBeCloseTo(0.9, 6);
  });

  it('large offsets with small noise (1e6 + 1e-2, 1e4 + 1e-2, 1e6 + 1): mean 0 and variance var/(var + eps)', () => {
    for (const [offset, noise] of [[1e6, 1e-2], [1e4, 1e-2], [1e6, 1]]) {
      for (const shape of [[64, 3], [8, 3, 5, 5]]) {
        const x = data(shape, 5, (rng) => offset + noise * rng.normal());
        const m = shape.length === 4 ? new BatchNorm2d(3) : new BatchNorm1d(3);
        const y = m.forward(x);
        expect(finite(y) && finite(m.runningVar!)).toBe(true);
        // float32 holds 1e6 only to 1/16, so 1e6 + 1e-2 noise arrives (nearly) constant; compare with the
        // variance of the values actually stored, computed here in float64 by two passes.
        const v = channelMoments(x).variance;
        const { mean, variance } = channelMoments(y);
        mean.forEach((mu) => expect(Math.abs(mu)).toBeLessThan(1e-5));
        variance.forEach((vy, c) => expect(vy).toBeCloseTo(v[c] / (v[c] + 1e-5), 4));
        if (offset < 1e6 || noise >= 1) variance.forEach((vy) => expect(vy).toBeGreaterThan(0.8));
        expectClose(m.runningMean!.data, channelMoments(x).mean.map((mu) => 0.1 * mu), 'running_mean', { rtol: 1e-6 });
      }
    }
  });

  it('100k values per channel: (100000, 2) and (25, 2, 40, 100)', () => {
    for (const shape of [[100000, 2], [25, 2, 40, 100]]) {
      const x = data(shape, 6, (rng, c) => 100 * c + 3 + (c + 1) * rng.normal());
      x.requiresGrad = true;
      const m = shape.length === 4 ? new BatchNorm2d(2) : new BatchNorm1d(2);
      const y = m.forward(x);
      const { mean, variance } = channelMoments(y);
      mean.forEach((v) => expect(Math.abs(v)).toBeLessThan(1e-6));
      variance.forEach((v) => expect(v).toBeCloseTo(1, 4));
      y.backward(randn(shape, { rng: new Rng(2) }).data);
      expect(finite(new Tensor(x.grad!, shape))).toBe(true);
      // sum(dx) = 0 per channel in training (the mean is subtracted): a cheap check at this size.
      const { mean: gmean } = channelMoments(new Tensor(x.grad!, shape));
      gmean.forEach((v) => expect(Math.abs(v)).toBeLessThan(1e-6));
    }
  });
});

describe('errors', () => {
  it('training with one value per channel fails with PyTorch\'s message and the shape it got', () => {
    const m = new BatchNorm1d(4);
    expect(() => m.forward(new Tensor(new Float32Array(4), [1, 4]))).toThrow('Expected more than 1 value per channel when training, got input ' +
      'of shape [1, 4]');
    expect(() => m.forward(new Tensor(new Float32Array(4), [1, 4]))).toThrow(ShapeError);
    expect(() => m.forward(new Tensor(new Float32Array(4), [1, 4, 1]))).toThrow('got input of shape [1, 4, 1]');
    expect(() => new BatchNorm2d(4).forward(new Tensor(new Float32Array(4), [1, 4, 1, 1]))).toThrow('Expected more than 1 value per channel ' +
      'when training, got input of shape [1, 4, 1, 1]');
    expect(m.numBatchesTracked!.item()).toBe(0);
    // (1, C, L>1) and (1, C, H, W) have more than one value per channel: fine.
    expect(() => new BatchNorm2d(4).forward(randn([1, 4, 2, 2]))).not.toThrow();
  });

  it('a wrong rank or channel count names the module and the expected shape', () => {
    expect(() => new BatchNorm2d(4).forward(randn([2, 4, 3]))).toThrow('BatchNorm2d: expected input of shape (N, 4, H, W), got [2, 4, 3]');
    expect(() => new BatchNorm2d(4).forward(randn([2, 3, 2, 2]))).toThrow('BatchNorm2d: expected input of shape (N, 4, H, W), got [2, 3, 2, 2]');
    expect(() => new BatchNorm1d(3).forward(randn([2, 4]))).toThrow('BatchNorm1d: expected input of shape (N, 3) or (N, 3, L), got [2, 4]');
    expect(() => new BatchNorm1d(3).forward(randn([2, 3, 2, 2]))).toThrow(ShapeError);
    expect(() => batchNorm(randn([2, 3]), null, null, new Tensor(new Float32Array(2), [2]), null, { training: true })).toThrow(
      'batchNorm: weight must have shape [3]');
  });

  it('bad options are rejected at construction', () => {
    expect(() => new BatchNorm1d(0)).toThrow(/numFeatures/);
    expect(() => new BatchNorm1d(3, { momentum: 1.5 })).toThrow(/momentum/);
    expect(() => new BatchNorm1d(3, { eps: -1 })).toThrow(/eps/);
    expect(() => new BatchNorm1d(3, { virtualBatchSize: 0 })).toThrow(/virtualBatchSize/);
  });
});

describe('edge cases', () => {
  it('an empty batch gives an empty output and leaves the running statistics alone', () => {
    const m = new BatchNorm2d(3);
    const y = m.forward(new Tensor(new Float32Array(0), [0, 3, 2, 2]));
    expect(y.shape).toEqual([0, 3, 2, 2]);
    expect(Array.from(m.runningVar!.data)).toEqual([1, 1, 1]);
    expect(m.forward(new Tensor(new Float32Array(0), [2, 3, 0, 2])).size).toBe(0);
  });
});
