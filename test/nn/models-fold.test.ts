// vgg() runs fused with unchanged state dict keys; foldBatchNorm on ResNets (stem, blocks, shortcuts) matches the unfolded eval output; inputPool.
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/tensor/rng.js';
import { randn } from '../../src/tensor/create.js';
import { expectSteadyHeap } from '../helpers/steady-heap.js';
import { noGrad } from '../../src/autograd/grad-mode.js';
import { crossEntropy } from '../../src/ops/loss.js';
import { SGD } from '../../src/optim/sgd.js';
import { Sequential } from '../../src/nn/sequential.js';
import { Conv2d, Linear } from '../../src/nn/layers.js';
import { AvgPool2d, Flatten, Identity, MaxPool2d, ReLU, Sigmoid } from '../../src/nn/activation.js';
import { BatchNorm2d } from '../../src/nn/norm/batchnorm.js';
import { foldBatchNorm } from '../../src/nn/norm/fold.js';
import { ResNet, resnet, resnetProblems, vgg, vggProblems, type ResNetNorm, type VggSpec } from '../../src/nn/models.js';
import type { Module } from '../../src/nn/module.js';
import type { Tensor } from '../../src/tensor/tensor.js';

/** A few SGD steps in train mode so the running statistics and gammas are far from their initial values. */
function trainABit(m: Module, size = 28, steps = 3): void {
  const opt = new SGD(m.parameters(), { lr: 0.05, momentum: 0.9 });
  for (let i = 0; i < steps; i++) {
    const x = randn([8, 1, size, size], { rng: new Rng(10 + i) });
    opt.zeroGrad();
    crossEntropy(m.train().forward(x), [0, 1, 2, 3, 4, 5, 6, 7]).backward();
    opt.step();
  }
}

const maxAbsDiff = (a: Tensor, b: Tensor) => a.data.reduce((m, v, i) => Math.max(m, Math.abs(v - b.data[i])), 0);

describe('vgg() runs its BN + activation fused (fuseBatchNormAct)', () => {
  it('keeps the state dict keys of the unfused layer list, and the same outputs', () => {
    const spec: VggSpec = { norm: 'bn', widths: [8, 16], convsPerStage: 2, activation: 'sigmoid' };
    const m = vgg(spec, 3);
    // conv-bn-act-conv-bn-act-pool per stage: each bn took its sigmoid (slot now Identity).
    const kinds = m.layers.map((l) => l.constructor.name);
    expect(kinds.slice(0, 7)).toEqual(['Conv2d', 'BatchNorm2d', 'Identity', 'Conv2d', 'BatchNorm2d', 'Identity', 'MaxPool2d']);
    const bns = m.layers.filter((l): l is BatchNorm2d => l instanceof BatchNorm2d);
    expect(bns.map((b) => b.act)).toEqual(['sigmoid', 'sigmoid', 'sigmoid', 'sigmoid']);
    // The same layers unfused, by hand.
    const rebuilt = new Sequential(...m.layers.map((l, i) => (l instanceof Identity && m.layers[i - 1] instanceof BatchNorm2d ? new Sigmoid() : l)));
    expect(Object.keys(m.stateDict())).toEqual(Object.keys(rebuilt.stateDict()));
    const x = randn([4, 1, 28, 28], { rng: new Rng(1) });
    const fusedOut = noGrad(() => m.eval().forward(x));
    for (const b of bns) b.act = null;
    const plainOut = noGrad(() => rebuilt.eval().forward(x));
    expect(maxAbsDiff(fusedOut, plainOut)).toBeLessThan(1e-6);
  });

  it('ReLU before a max pool fuses with the pool (the BN stays unfused)', () => {
    const m = vgg({ norm: 'bn', widths: [8] }, 1);
    expect(m.layers.map((l) => l.constructor.name)).toEqual(['Conv2d', 'BatchNorm2d', 'ReLUMaxPool2d', 'Identity', 'Flatten', 'Linear']);
  });
});

describe('inputPool', () => {
  it('average-pools the image first: vgg and resnet train on 28x28 input at 14x14', () => {
    const v = vgg({ norm: 'bn', widths: [4, 8], inputPool: 2 }, 1);
    expect(v.layers[0]).toBeInstanceOf(AvgPool2d);
    const lin = v.layers.find((l): l is Linear => l instanceof Linear)!;
    expect(lin.inFeatures).toBe(8 * 3 * 3);
    const r = resnet({ depth: 8, norm: 'bn', widths: [4, 8, 8], inputPool: 2 }, 1);
    expect(r.namedLayers()[0][0]).toBe('inputPool');
    const x = randn([3, 1, 28, 28], { rng: new Rng(2) });
    expect(noGrad(() => v.eval().forward(x)).shape).toEqual([3, 10]);
    expect(noGrad(() => r.eval().forward(x)).shape).toEqual([3, 10]);
    // No state dict keys of its own.
    expect(Object.keys(r.stateDict())).toEqual(Object.keys(resnet({ depth: 8, norm: 'bn', widths: [4, 8, 8] }, 1).stateDict()));
  });

  it('training steps with an input pool take no new heap memory after the first (the pooled image is recycled)', () => {
    const x = randn([32, 1, 28, 28], { rng: new Rng(3) });
    const labels = Array.from({ length: 32 }, (_, i) => i % 10);
    for (const m of [resnet({ depth: 8, norm: 'bn', widths: [4, 8, 8], inputPool: 2 }, 1), vgg({ norm: 'bn', widths: [4, 8], inputPool: 2 }, 1)]) {
      expectSteadyHeap(m, x, labels);
    }
  });

  it('refuses a pool the image cannot take, naming the field', () => {
    expect(vggProblems({ norm: 'bn', inputPool: 0 })[0]).toMatchObject({ field: 'inputPool' });
    expect(vggProblems({ norm: 'bn', inputPool: 40 })[0]).toMatchObject({ field: 'inputPool', reason: expect.stringMatching(/larger than the image/) });
    expect(vggProblems({ norm: 'bn', widths: [8, 8, 8, 8], inputPool: 2 })[0].reason).toMatch(/after the input pool of 2 \(14 -> 7 -> 3 -> 1 -> 0\)/);
    expect(resnetProblems({ depth: 8, norm: 'bn', inputPool: 8 })[0]).toMatchObject({ field: 'imageSize', reason: expect.stringMatching(/3 after the input pool of 8/) });
  });
});

describe('foldBatchNorm on ResNets', () => {
  for (const norm of ['bn', 'bn-zero-gamma', 'skipinit', 'none'] as ResNetNorm[]) {
    it(`${norm}: the folded ResNet has no BatchNorm and gives the unfolded eval output`, () => {
      const m = resnet({ depth: 8, norm, widths: [4, 8, 8] }, 5);
      trainABit(m);
      const x = randn([5, 1, 28, 28], { rng: new Rng(7) });
      const want = noGrad(() => m.eval().forward(x));
      const folded = foldBatchNorm(m);
      expect(folded).toBeInstanceOf(ResNet);
      expect(folded.training).toBe(false);
      expect(folded.namedModules().some(([, l]) => l instanceof BatchNorm2d)).toBe(false);
      // Shortcut convs (stride 2) and every branch conv carry the folded bias.
      const convs = folded.namedModules().filter(([, l]) => l instanceof Conv2d) as [string, Conv2d][];
      expect(convs.length).toBe(1 + 3 * 2 + 2);
      expect(convs.every(([, c]) => c.bias !== null)).toBe(true);
      const got = noGrad(() => folded.forward(x));
      const scale = Math.max(...Array.from(want.data, Math.abs));
      expect(maxAbsDiff(got, want)).toBeLessThan(1e-4 * Math.max(1, scale));
      // The original is untouched.
      expect(m.blocks[0].bn1 === null).toBe(norm === 'skipinit' || norm === 'none');
    });
  }

  it('with an input pool, and inside a Sequential', () => {
    const m = resnet({ depth: 14, norm: 'bn', widths: [4, 8, 8], inputPool: 2 }, 6);
    trainABit(m);
    const seq = new Sequential(m, new ReLU());
    const x = randn([3, 1, 28, 28], { rng: new Rng(8) });
    const want = noGrad(() => seq.eval().forward(x));
    const got = noGrad(() => foldBatchNorm(seq).forward(x));
    expect(maxAbsDiff(got, want)).toBeLessThan(1e-4);
  });

  it('a vgg net with BN before the activation folds too', () => {
    const v = vgg({ norm: 'bn', widths: [4, 8], convsPerStage: 2 }, 2);
    trainABit(v);
    const x = randn([3, 1, 28, 28], { rng: new Rng(9) });
    const want = noGrad(() => v.eval().forward(x));
    const f = foldBatchNorm(v);
    expect(f.layers.some((l) => l instanceof BatchNorm2d)).toBe(false);
    expect(f.layers.some((l) => l instanceof MaxPool2d || l instanceof Flatten)).toBe(true);
    expect(maxAbsDiff(noGrad(() => f.forward(x)), want)).toBeLessThan(1e-4);
  });
});
