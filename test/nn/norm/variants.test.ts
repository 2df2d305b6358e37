// BN variants: Ghost BN, Batch Renorm, frozen BN, the Keras convention, and foldBatchNorm.
import { describe, it, expect } from 'vitest';
import { BatchNorm1d, BatchNorm2d, freezeBatchNorm, type BatchNormBase } from '../../../src/nn/norm/batchnorm.js';
import { BatchRenorm1d, BatchRenorm2d, renormRamp } from '../../../src/nn/norm/renorm.js';
import { foldBatchNorm } from '../../../src/nn/norm/fold.js';
import { Sequential } from '../../../src/nn/sequential.js';
import { Conv2d, Linear } from '../../../src/nn/layers.js';
import { Flatten, Identity, ReLU } from '../../../src/nn/activation.js';
import { Module } from '../../../src/nn/module.js';
import { Tensor } from '../../../src/tensor/tensor.js';
import { Rng } from '../../../src/tensor/rng.js';
import { randn } from '../../../src/tensor/create.js';
import { noGrad } from '../../../src/autograd/grad-mode.js';
import { channelMoments, expectClose } from './helpers.js';

/** Runs forward + backward with a fixed cotangent; returns y, dx, dweight, dbias and the running statistics. */
function trace(m: BatchNormBase, x0: Tensor, seed: number) {
  const x = new Tensor(x0.data.slice(), x0.shape, true);
  const y = m.forward(x);
  y.backward(randn(x0.shape, { rng: new Rng(seed) }).data);
  const out = {
    y: Array.from(y.data),
    dx: Array.from(x.grad!),
    dw: m.weight?.grad ? Array.from(m.weight.grad) : null,
    db: m.bias?.grad ? Array.from(m.bias.grad) : null,
    rm: m.runningMean ? Array.from(m.runningMean.data) : null,
    rv: m.runningVar ? Array.from(m.runningVar.data) : null,
    nbt: m.numBatchesTracked?.item() ?? null,
  };
  m.zeroGrad();
  return out;
}

function setAffine(m: BatchNormBase, seed: number): void {
  const rng = new Rng(seed);
  m.weight?.data.forEach((_, i, a) => (a[i] = 1 + 0.5 * rng.normal()));
  m.bias?.data.forEach((_, i, a) => (a[i] = 0.5 * rng.normal()));
}

describe('Ghost BN (virtualBatchSize)', () => {
  it('with virtualBatchSize = batch (or larger) equals plain BN, bit for bit, over several steps', () => {
    for (const vbs of [6, 100]) {
      const plain = new BatchNorm2d(3);
      const ghost = new BatchNorm2d(3, { virtualBatchSize: vbs });
      setAffine(plain, 1);
      setAffine(ghost, 1);
      for (let k = 0; k < 3; k++) {
        const x = randn([6, 3, 2, 2], { rng: new Rng(10 + k), mean: k });
        expect(trace(ghost, x, k)).toEqual(trace(plain, x, k));
      }
    }
  });

  it('normalizes each sub-batch on its own and updates the running statistics once per sub-batch', () => {
    const ghost = new BatchNorm1d(2, { virtualBatchSize: 3 });
    const ref = new BatchNorm1d(2);
    const x = randn([6, 2, 4], { rng: new Rng(3), mean: 2, std: 3 });
    const y = ghost.forward(x);
    const half = x.size / 2;
    for (const h of [0, 1]) {
      const part = new Tensor(x.data.slice(h * half, (h + 1) * half), [3, 2, 4]);
      expectClose(y.data.subarray(h * half, (h + 1) * half), ref.forward(part).data, `sub-batch ${h}`, { rtol: 1e-6, atol: 1e-6 });
    }
    expectClose(ghost.runningMean!.data, ref.runningMean!.data, 'running_mean', { rtol: 1e-6 });
    expectClose(ghost.runningVar!.data, ref.runningVar!.data, 'running_var', { rtol: 1e-6 });
    expect(ghost.numBatchesTracked!.item()).toBe(1);
    // Eval ignores virtual batches: running statistics, as plain BN.
    ghost.eval();
    ref.eval();
    expectClose(ghost.forward(x).data, ref.forward(x).data, 'eval', { rtol: 1e-6, atol: 1e-7 });
  });

  it('rejects a last sub-batch with one value per channel, naming virtualBatchSize', () => {
    expect(() => new BatchNorm1d(2, { virtualBatchSize: 2 }).forward(randn([5, 2]))).toThrow(/virtual batch of 1 sample.*virtualBatchSize 2/);
  });
});

describe('Batch Renorm', () => {
  it('with rMax = 1 and dMax = 0 equals plain BN (outputs, gradients, running statistics), 1d and 2d', () => {
    for (const [R, B, shape] of [
      [BatchRenorm1d, BatchNorm1d, [8, 3]],
      [BatchRenorm2d, BatchNorm2d, [4, 3, 2, 3]],
    ] as const) {
      const rn = new R(3, { rMax: 1, dMax: 0 });
      const bn = new B(3);
      setAffine(rn, 2);
      setAffine(bn, 2);
      for (let k = 0; k < 4; k++) {
        const x = randn([...shape], { rng: new Rng(20 + k), mean: 3, std: 2 });
        expect(trace(rn, x, k)).toEqual(trace(bn, x, k));
      }
    }
  });

  it('corrects towards the running statistics: with wide limits training output equals the eval output', () => {
    // r = sigma_B / sigma and d = (mu_B - mu) / sigma unclipped turn batch normalization into running normalization.
    const rn = new BatchRenorm1d(2, { rMax: 1e6, dMax: 1e6, momentum: 0 });
    setAffine(rn, 3);
    rn.runningMean!.data.set([1, -2]);
    rn.runningVar!.data.set([4, 0.5]);
    const x = randn([16, 2], { rng: new Rng(4), mean: 0.5, std: 2 });
    const yTrain = rn.forward(x);
    rn.eval();
    expectClose(yTrain.data, rn.forward(x).data, 'train vs eval', { rtol: 1e-5, atol: 1e-5 });
  });

  it('schedules rMax and dMax by step (the paper: plain BN for 5k steps, then rMax -> 3 at 40k, dMax -> 5 at 25k)', () => {
    const r = renormRamp(1, 3, 5000, 40000);
    expect([r(0), r(5000), r(22500), r(40000), r(1e6)]).toEqual([1, 1, 2, 3, 3]);
    const m = new BatchRenorm1d(2);
    expect(m.currentLimits()).toEqual({ rMax: 1, dMax: 0 });
    m.numBatchesTracked!.data[0] = 15000;
    expect(m.currentLimits()).toEqual({ rMax: 1 + 2 * (10000 / 35000), dMax: 2.5 });
    const custom = new BatchRenorm2d(2, { rMax: (s) => 1 + s, dMax: 0.5 });
    custom.forward(randn([2, 2, 2, 2]));
    expect(custom.currentLimits()).toEqual({ rMax: 2, dMax: 0.5 });
  });

  it('rejects trackRunningStats false and limits out of range', () => {
    expect(() => new BatchRenorm1d(2, { trackRunningStats: false } as never)).toThrow(/running statistics/);
    expect(() => new BatchRenorm1d(2, { rMax: 0.5 })).toThrow(/rMax/);
    expect(() => new BatchRenorm1d(2, { dMax: -1 })).toThrow(/dMax/);
  });
});

describe('frozen BN (freeze)', () => {
  it('keeps inference behaviour in train(): running statistics, no updates, no weight/bias gradient', () => {
    const m = new BatchNorm2d(3);
    setAffine(m, 5);
    m.runningMean!.data.set([0.5, -1, 2]);
    m.runningVar!.data.set([2, 0.5, 3]);
    const evalRef = new BatchNorm2d(3);
    evalRef.loadStateDict(m.stateDict());
    evalRef.eval();
    m.freeze().train();
    expect(m.isFrozen).toBe(true);
    expect(m.weight!.requiresGrad || m.bias!.requiresGrad).toBe(false);
    const x = randn([2, 3, 2, 2], { rng: new Rng(6), mean: 1 });
    const before = m.stateDict();
    const t = trace(m, x, 1);
    expect(t.y).toEqual(Array.from(evalRef.forward(x).data));
    expect(t.dw).toBeNull();
    expect(t.db).toBeNull();
    // dx = gamma / sqrt(running_var + eps) * dy in inference mode.
    const dy = randn(x.shape, { rng: new Rng(1) }).data;
    t.dx.forEach((v, i) => {
      const c = Math.floor(i / 4) % 3;
      expect(v).toBeCloseTo((m.weight!.data[c] / Math.sqrt(m.runningVar!.data[c] + 1e-5)) * dy[i], 5);
    });
    expect(m.stateDict()).toEqual(before);
    m.unfreeze();
    expect(m.weight!.requiresGrad).toBe(true);
    m.forward(x);
    expect(m.numBatchesTracked!.item()).toBe(1);
  });

  it('freezeBatchNorm freezes every BN of a model', () => {
    const model = new Sequential(new Linear(3, 4), new BatchNorm1d(4), new ReLU(), new Linear(4, 2), new BatchNorm1d(2));
    freezeBatchNorm(model).train();
    const bns = model.layers.filter((l): l is BatchNorm1d => l instanceof BatchNorm1d);
    expect(bns.every((b) => b.isFrozen)).toBe(true);
    model.forward(randn([5, 3]));
    expect(bns.every((b) => b.numBatchesTracked!.item() === 0)).toBe(true);
  });
});

describe('Keras convention (fromKeras)', () => {
  it('momentum 0.99 (old value), epsilon 1e-3, biased moving variance', () => {
    const k = BatchNorm1d.fromKeras(2);
    expect(k.eps).toBe(1e-3);
    expect(k.momentum).toBeCloseTo(0.01, 12);
    const x = randn([5, 2], { rng: new Rng(7), mean: 3, std: 2 });
    const y = k.forward(x);
    const { mean, variance } = channelMoments(x);
    // Keras: moving = 0.99 moving + 0.01 batch, with the biased batch variance.
    expectClose(k.runningMean!.data, mean.map((m) => 0.01 * m), 'moving_mean', { rtol: 1e-5 });
    expectClose(k.runningVar!.data, variance.map((v) => 0.99 + 0.01 * v), 'moving_variance', { rtol: 1e-6 });
    // Output: (x - mean) / sqrt(var + 1e-3).
    y.data.forEach((v, i) => expect(v).toBeCloseTo((x.data[i] - mean[i % 2]) / Math.sqrt(variance[i % 2] + 1e-3), 5));
  });

  it('center and scale drop beta and gamma separately; setKerasWeights takes get_weights() order', () => {
    const k = BatchNorm2d.fromKeras(2, { center: false, momentum: 0.9, epsilon: 1e-5 });
    expect(Object.keys(k.stateDict())).toEqual(['weight', 'running_mean', 'running_var', 'num_batches_tracked']);
    expect(k.bias).toBeNull();
    k.setKerasWeights([[2, 3], [0.5, -0.5], [4, 9]]);
    k.eval();
    const y = k.forward(new Tensor(new Float32Array(8).fill(1), [1, 2, 2, 2]));
    expect(y.data[0]).toBeCloseTo((2 * 0.5) / Math.sqrt(4 + 1e-5), 5);
    expect(y.data[4]).toBeCloseTo((3 * 1.5) / Math.sqrt(9 + 1e-5), 5);
    expect(Object.keys(BatchNorm1d.fromKeras(3, { scale: false }).stateDict())).toEqual(['bias', 'running_mean', 'running_var',
      'num_batches_tracked']);
    expect(() => k.setKerasWeights([[1, 2]])).toThrow(/expected 3 arrays/);
  });
});

describe('foldBatchNorm', () => {
  /** Trains BN statistics away from their defaults and randomizes gamma/beta, so folding has something to fold. */
  function warm(model: Module, shape: number[], seed: number): void {
    const rng = new Rng(seed);
    model.train();
    for (let k = 0; k < 5; k++) noGrad(() => model.forward(randn(shape, { rng, mean: 0.5, std: 2 })));
    for (const [, m] of model.namedModules()) if (m instanceof BatchNorm1d || m instanceof BatchNorm2d) setAffine(m, seed + 1);
    model.eval();
  }

  function expectSame(model: Module, folded: Module, shape: number[]): void {
    const x = randn(shape, { rng: new Rng(99), std: 2 });
    const a = noGrad(() => model.forward(x));
    const b = noGrad(() => folded.forward(x));
    const scale = Math.max(...a.data.map(Math.abs));
    // Within 1e-5 relative of the output scale (float32 rounding of folded weights).
    expectClose(b.data, a.data, 'folded vs unfolded', { rtol: 1e-5, atol: 1e-5 * scale });
  }

  it('MLP: Linear -> BN1d folds into Linear (with and without bias); outputs equal the eval model', () => {
    const rng = new Rng(1);
    const model = new Sequential(new Linear(5, 8, { rng }), new BatchNorm1d(8), new ReLU(), new Linear(8, 4, { bias: false, rng }),
      new BatchNorm1d(4), new Linear(4, 3, { rng }));
    warm(model, [16, 5], 2);
    const sdBefore = model.stateDict();
    const folded = foldBatchNorm(model);
    expectSame(model, folded, [7, 5]);
    expect(folded.layers[1]).toBeInstanceOf(Identity);
    expect(folded.layers[4]).toBeInstanceOf(Identity);
    expect(folded.training).toBe(false);
    expect(Object.keys(folded.stateDict())).toEqual(['0.weight', '0.bias', '3.weight', '3.bias', '5.weight', '5.bias']);
    // The original is untouched.
    expect(model.stateDict()).toEqual(sdBefore);
    expect(model.layers[1]).toBeInstanceOf(BatchNorm1d);
  });

  it('CNN: Conv2d -> BN2d folds into Conv2d, nested Sequential included', () => {
    const rng = new Rng(3);
    const model = new Sequential(
      new Sequential(new Conv2d(2, 4, 3, { padding: 1, rng }), new BatchNorm2d(4), new ReLU()),
      new Conv2d(4, 3, 3, { stride: 2, bias: false, rng }),
      new BatchNorm2d(3, { eps: 1e-3 }),
      new Flatten(),
      new Linear(3 * 3 * 3, 2, { rng }),
    );
    warm(model, [6, 2, 7, 7], 4);
    expectSame(model, foldBatchNorm(model), [3, 2, 7, 7]);
  });

  it('refuses a BN that does not follow a Linear or Conv2d, has no running statistics, or sits in another module', () => {
    expect(() => foldBatchNorm(new Sequential(new Linear(3, 3), new ReLU(), new BatchNorm1d(3)))).toThrow(
      "foldBatchNorm: BatchNorm1d at '2' follows ReLU at '1', not a Linear or Conv2d, so it cannot be folded",
    );
    expect(() => foldBatchNorm(new Sequential(new BatchNorm1d(3), new Linear(3, 2)))).toThrow(/at '0' is the first layer/);
    expect(() => foldBatchNorm(new BatchNorm2d(3))).toThrow(/not preceded by a Linear or Conv2d/);
    expect(() => foldBatchNorm(new Sequential(new Linear(3, 3), new BatchNorm1d(3, { trackRunningStats: false })))).toThrow(/no running statistics/);
    expect(() => foldBatchNorm(new Sequential(new Linear(3, 4), new BatchNorm1d(3)))).toThrow(/does not match the Linear/);
    class Block extends Module {
      lin = this.registerModule('lin', new Linear(3, 3)) as Linear;
      bn = this.registerModule('bn', new BatchNorm1d(3)) as BatchNorm1d;
      forward(x: Tensor): Tensor {
        return this.bn.forward(this.lin.forward(x));
      }
    }
    expect(() => foldBatchNorm(new Sequential(new Block()))).toThrow(/'0.bn' is inside a Block/);
  });
});
